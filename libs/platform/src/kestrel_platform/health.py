"""The small HTTP server every service runs: /health, /ready and /metrics.

/health answers 200 while the event loop is alive (Kubernetes liveness). /ready runs the service's
dependency checks concurrently, each under a timeout, and answers 503 naming the failures
(readiness: take the pod out of rotation, do not restart it). /metrics is the Prometheus text
format of the default registry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

__all__ = ["DEFAULT_CHECK_TIMEOUT_S", "HealthServer", "ReadinessCheck"]

ReadinessCheck = Callable[[], Awaitable[None]]
"""Returns when the dependency is usable; raises (anything) when it is not."""

DEFAULT_CHECK_TIMEOUT_S = 2.0
_NO_CHECKS: Mapping[str, ReadinessCheck] = MappingProxyType({})


async def _run_check(check: ReadinessCheck, timeout_s: float) -> str | None:
    """None when the check passed, otherwise a short reason."""
    try:
        await asyncio.wait_for(check(), timeout=timeout_s)
    except TimeoutError:
        return f"timed out after {timeout_s:g}s"
    except Exception as exc:  # a failing check is data for the response, never a server error
        return f"{type(exc).__name__}: {exc}"
    return None


class HealthServer:
    """aiohttp server for /health, /ready and /metrics on `host:port` (port 0 = any free port)."""

    def __init__(
        self,
        host: str,
        port: int,
        readiness: Mapping[str, ReadinessCheck] = _NO_CHECKS,
        *,
        check_timeout_s: float = DEFAULT_CHECK_TIMEOUT_S,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._checks: dict[str, ReadinessCheck] = dict(readiness)
        self._check_timeout_s = check_timeout_s
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        """Register a readiness check after construction (e.g. once a client exists)."""
        self._checks[name] = check

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was requested). Only valid after `start()`."""
        if self._port is None:
            raise RuntimeError("HealthServer is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("HealthServer already started")
        # Probes hit these endpoints every few seconds; access logs would drown the service's own.
        runner = web.AppRunner(self._app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._port = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def check_readiness(self) -> dict[str, str | None]:
        """Run every check concurrently; name -> None (passed) or the reason it failed."""
        names = list(self._checks)
        results = await asyncio.gather(*(_run_check(self._checks[n], self._check_timeout_s) for n in names))
        return dict(zip(names, results, strict=True))

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _ready(self, _request: web.Request) -> web.Response:
        started = time.perf_counter()
        results = await self.check_readiness()
        failing = {name: reason for name, reason in results.items() if reason is not None}
        body: dict[str, Any] = {
            "status": "not ready" if failing else "ready",
            "checks": {name: ("ok" if reason is None else "failing") for name, reason in results.items()},
            "failing": failing,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        return web.json_response(body, status=503 if failing else 200)

    async def _metrics(self, _request: web.Request) -> web.Response:
        # generate_latest walks every collector synchronously; it is fast for a service-sized registry.
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
