"""/health (liveness), /ready (Kafka, Redis, PostgreSQL) and /metrics (Prometheus), unauthenticated
like on every Kestrel service: probes and scrapers carry no API key."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from kestrel_gateway.auth import runtime_of
from kestrel_platform.health import HealthServer

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: 200 while the process runs")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: 200 when Kafka, Redis and PostgreSQL answer, else 503")
async def ready(request: Request) -> JSONResponse:
    started = time.perf_counter()
    # HealthServer's check runner (concurrent, each under a timeout) without its own aiohttp server:
    # FastAPI serves this port, and /ready must answer the same JSON on every service.
    results = await HealthServer("127.0.0.1", 0, runtime_of(request).readiness).check_readiness()
    failing = {name: reason for name, reason in results.items() if reason is not None}
    body: dict[str, Any] = {
        "status": "not ready" if failing else "ready",
        "checks": {name: ("ok" if reason is None else "failing") for name, reason in results.items()},
        "failing": failing,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return JSONResponse(body, status_code=503 if failing else 200)


@router.get("/metrics", summary="Prometheus metrics of this process", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
