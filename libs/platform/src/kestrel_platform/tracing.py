"""OpenTelemetry setup and W3C trace-context propagation through Kafka headers and Redis Stream fields.

OpenTelemetry lets a process set its global tracer provider only once. Tests (and anything that
wants to reconfigure) need more than that, so the global provider is a *switching* provider installed
once: it forwards every call to whichever SDK provider `configure_tracing` built last. Tracers handed
out by `get_tracer` (or by `opentelemetry.trace.get_tracer`) look the current provider up on every span,
so a module-level `tracer = get_tracer(...)` keeps working across reconfiguration and is a no-op
before any configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util import types

if TYPE_CHECKING:
    from opentelemetry.util._decorator import _AgnosticContextManager

__all__ = [
    "TRACE_CONTEXT_FIELDS",
    "carrier_to_kafka_headers",
    "carrier_to_redis_fields",
    "configure_tracing",
    "current_trace_ids",
    "extract_context",
    "get_tracer",
    "inject_context",
    "kafka_headers_to_carrier",
    "redis_fields_to_carrier",
    "reset_tracing_for_tests",
    "shutdown_tracing",
]

# The W3C trace-context keys; everything that crosses a process boundary carries these and nothing else.
TRACE_CONTEXT_FIELDS: tuple[str, ...] = ("traceparent", "tracestate")
_OTLP_TRACES_PATH = "/v1/traces"

_PROPAGATOR = TraceContextTextMapPropagator()


class _SwitchingTracer(Tracer):
    """A tracer that resolves the real tracer from the current provider at every span start."""

    def __init__(
        self,
        owner: _SwitchingTracerProvider,
        name: str,
        version: str | None,
        schema_url: str | None,
        attributes: types.Attributes,
    ) -> None:
        self._owner = owner
        self._scope = (name, version, schema_url, attributes)

    def _delegate(self) -> Tracer:
        return self._owner.current.get_tracer(*self._scope)

    def start_span(  # noqa: PLR0917 - signature fixed by the Tracer ABC
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        return self._delegate().start_span(
            name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
        )

    def start_as_current_span(  # noqa: PLR0917 - signature fixed by the Tracer ABC
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> _AgnosticContextManager[Span]:
        # Returning the real tracer's context manager keeps the SDK's own span-ending semantics.
        return self._delegate().start_as_current_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
            end_on_exit,
        )


class _SwitchingTracerProvider(trace.TracerProvider):
    """Installed once as the global provider; forwards to the provider configured last."""

    def __init__(self) -> None:
        self.current: trace.TracerProvider = trace.NoOpTracerProvider()

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: types.Attributes = None,
    ) -> Tracer:
        return _SwitchingTracer(
            self, instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )


_SWITCH = _SwitchingTracerProvider()
_sdk_provider: TracerProvider | None = None
_global_installed = False
_lock = threading.Lock()


def _traces_url(endpoint: str) -> str:
    # The exporter uses an explicit endpoint verbatim (only the OTEL_* env var gets the path appended),
    # while KESTREL_OTLP_ENDPOINT is the collector base URL, e.g. http://jaeger:4318.
    base = endpoint.rstrip("/")
    return base if base.endswith(_OTLP_TRACES_PATH) else base + _OTLP_TRACES_PATH


def configure_tracing(
    service_name: str,
    otlp_endpoint: str | None,
    span_processors: Sequence[SpanProcessor] = (),
) -> TracerProvider:
    """Build a TracerProvider for `service_name` and make it the one every tracer uses.

    With `otlp_endpoint` (the collector base URL) spans are batched to it over OTLP/HTTP; without
    it nothing is exported except through `span_processors`. Calling again replaces (and shuts
    down) the previous provider, which is what tests rely on.
    """
    global _sdk_provider, _global_installed  # noqa: PLW0603 - one process-wide provider by design
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if otlp_endpoint:
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=_traces_url(otlp_endpoint))))
    for processor in span_processors:
        provider.add_span_processor(processor)
    with _lock:
        previous = _sdk_provider
        _sdk_provider = provider
        _SWITCH.current = provider
        if not _global_installed:
            trace.set_tracer_provider(_SWITCH)
            _global_installed = True
    if previous is not None:
        previous.shutdown()
    return provider


def get_tracer(name: str) -> Tracer:
    """A tracer that follows the current configuration (no-op until `configure_tracing` runs)."""
    return _SWITCH.get_tracer(name)


def shutdown_tracing() -> None:
    """Flush and stop the configured provider; tracers go back to no-op. Call on service exit."""
    global _sdk_provider  # noqa: PLW0603 - one process-wide provider by design
    with _lock:
        previous = _sdk_provider
        _sdk_provider = None
        _SWITCH.current = trace.NoOpTracerProvider()
    if previous is not None:
        previous.shutdown()


# Tests read better with a name that says why they call it.
reset_tracing_for_tests = shutdown_tracing


def current_trace_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the current span as lowercase hex, or None outside a valid span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def inject_context(carrier: MutableMapping[str, str], context: Context | None = None) -> None:
    """Write W3C `traceparent`/`tracestate` of `context` (default: the current one) into `carrier`."""
    _PROPAGATOR.inject(carrier, context=context)


def extract_context(carrier: Mapping[str, str]) -> Context:
    """The context described by the W3C fields in `carrier` (an empty context when there are none).

    Use it as the parent: `tracer.start_as_current_span("handle", context=extract_context(c))`.
    """
    return _PROPAGATOR.extract(carrier)


def kafka_headers_to_carrier(
    headers: Sequence[tuple[str, bytes | str | None]] | None,
) -> dict[str, str]:
    """Kafka record headers -> a str carrier. Keys are lower-cased; later duplicates win.

    Values that are not UTF-8 (or are None, which Kafka allows) are skipped rather than failing the
    message: a missing trace context must never stop a consumer.
    """
    carrier: dict[str, str] = {}
    for key, raw in headers or ():
        if raw is None:
            continue
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")  # noqa: PLW2901 - narrowing bytes to str in place
            except UnicodeDecodeError:
                continue
        carrier[key.lower()] = raw
    return carrier


def carrier_to_kafka_headers(carrier: Mapping[str, str]) -> list[tuple[str, bytes]]:
    """A str carrier -> Kafka record headers (UTF-8 values)."""
    return [(key, value.encode("utf-8")) for key, value in carrier.items()]


def carrier_to_redis_fields(carrier: Mapping[str, str]) -> dict[str, str]:
    """The trace-context fields of `carrier`, ready to merge into a Redis Stream entry's fields."""
    return {key: carrier[key] for key in TRACE_CONTEXT_FIELDS if key in carrier}


def redis_fields_to_carrier(fields: Mapping[str, str] | Mapping[bytes, bytes]) -> dict[str, str]:
    """Pick the trace-context fields out of a Redis Stream entry (str or bytes keys and values).

    Other fields (the payload) are left alone so a binary payload is never decoded here.
    """
    carrier: dict[str, str] = {}
    for raw_key, raw_value in fields.items():
        key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else raw_key
        if key not in TRACE_CONTEXT_FIELDS:
            continue
        if isinstance(raw_value, bytes):
            try:
                carrier[key] = raw_value.decode("utf-8")
            except UnicodeDecodeError:
                continue
        else:
            carrier[key] = raw_value
    return carrier
