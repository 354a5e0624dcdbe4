"""A minimal OTLP/HTTP trace collector for end-to-end tests: the services export to it exactly as
they would to Jaeger (KESTREL_OTLP_ENDPOINT), and the test reads back which service made which span.

Only what the tests need: POST /v1/traces with a protobuf ExportTraceServiceRequest, kept in memory.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True, slots=True)
class CollectedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str


class OtlpCollector:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.spans: list[CollectedSpan] = []
        self._host = host
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def _traces(self, request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in export.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            service = attrs.get("service.name", "")
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        CollectedSpan(
                            service,
                            span.name,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                        )
                    )
        body = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type="application/x-protobuf")

    def services_by_trace(self) -> dict[str, set[str]]:
        """trace id -> the services that contributed spans to it."""
        found: dict[str, set[str]] = defaultdict(set)
        for span in self.spans:
            found[span.trace_id].add(span.service)
        return found

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/traces", self._traces)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
