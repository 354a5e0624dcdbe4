"""Every HTTP request timed into `http_request_duration_ms` and traced (a SERVER span continuing the
caller's W3C trace context), as a plain ASGI middleware so streaming and WebSocket traffic pass through.

The route label is the matched route's template (`/api/portfolio/{account}`), never the raw path, so
label cardinality stays bounded; requests matching no route share "<unmatched>".
"""

from __future__ import annotations

import time

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kestrel_platform.metrics import http_request_duration_ms
from kestrel_platform.tracing import extract_context, get_tracer

__all__ = ["ObservabilityMiddleware", "route_template"]

_tracer = get_tracer("kestrel.gateway.http")
UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._duration = http_request_duration_ms()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "WS")
        status = {"code": 500 if scope["type"] == "http" else 101}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        started = time.perf_counter()
        with _tracer.start_as_current_span(
            f"{method} {scope.get('path', '')}", context=extract_context(headers), kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                route = route_template(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status["code"])
                if status["code"] >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                if scope["type"] == "http":
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    self._duration.labels(method=method, route=route, status=str(status["code"])).observe(
                        elapsed_ms
                    )
