"""The metrics-and-tracing middleware, driven through ASGI directly (no server, no infrastructure)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from kestrel_gateway.app import NATIVE_TELEMETRY_OFF
from kestrel_gateway.observability import ObservabilityMiddleware
from kestrel_platform.tracing import configure_tracing, reset_tracing_for_tests

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("kestrel-tests", None, span_processors=[SimpleSpanProcessor(exporter)])
    yield exporter
    reset_tracing_for_tests()


async def _get(app: Any, path: str) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"traceparent", TRACEPARENT.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return int(next(m for m in sent if m["type"] == "http.response.start")["status"])


def _count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("http_request_duration_ms_count", labels) or 0.0


async def test_requests_are_timed_by_route_template_and_traced_as_server_spans(
    spans: InMemorySpanExporter,
) -> None:
    app = FastAPI(telemetry=NATIVE_TELEMETRY_OFF)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    wrapped = ObservabilityMiddleware(app)
    before_ok, before_missing = _count("/things/{thing_id}", "200"), _count("<unmatched>", "404")
    assert await _get(wrapped, "/things/7") == 200
    assert await _get(wrapped, "/nowhere") == 404
    assert _count("/things/{thing_id}", "200") == before_ok + 1
    assert _count("<unmatched>", "404") == before_missing + 1

    # One span per request: FastAPI's own telemetry is off, so nothing doubles it.
    finished = spans.get_finished_spans()
    assert [(s.name, s.kind) for s in finished] == [
        ("GET /things/{thing_id}", SpanKind.SERVER),
        ("GET <unmatched>", SpanKind.SERVER),
    ]
    first = finished[0]
    assert first.attributes is not None and first.attributes["http.response.status_code"] == 200
    # It continues the caller's trace.
    assert format(first.context.trace_id, "032x") == TRACEPARENT.split("-")[1]
