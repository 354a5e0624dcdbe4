"""Tracer configuration and W3C trace-context round trips through Kafka headers and Redis fields."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kestrel_platform.tracing import (
    carrier_to_kafka_headers,
    carrier_to_redis_fields,
    configure_tracing,
    extract_context,
    get_tracer,
    inject_context,
    kafka_headers_to_carrier,
    redis_fields_to_carrier,
    reset_tracing_for_tests,
)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("test-svc", None, [SimpleSpanProcessor(exporter)])
    yield exporter
    reset_tracing_for_tests()


def test_get_tracer_before_configuration_is_a_noop() -> None:
    reset_tracing_for_tests()
    with get_tracer("early").start_as_current_span("nothing") as span:
        assert not span.get_span_context().is_valid


def test_tracer_made_before_configuration_records_after_it() -> None:
    reset_tracing_for_tests()
    tracer = get_tracer("module-level")
    exporter = InMemorySpanExporter()
    configure_tracing("late", None, [SimpleSpanProcessor(exporter)])
    try:
        with tracer.start_as_current_span("work"):
            pass
    finally:
        reset_tracing_for_tests()

    [span] = exporter.get_finished_spans()
    assert span.name == "work"
    assert span.resource.attributes["service.name"] == "late"


def test_reconfiguring_switches_the_global_provider_too() -> None:
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    configure_tracing("one", None, [SimpleSpanProcessor(first)])
    configure_tracing("two", None, [SimpleSpanProcessor(second)])
    try:
        with trace.get_tracer("via-global").start_as_current_span("s"):
            pass
    finally:
        reset_tracing_for_tests()

    assert first.get_finished_spans() == ()
    assert [s.resource.attributes["service.name"] for s in second.get_finished_spans()] == ["two"]


def test_kafka_headers_round_trip_keeps_trace_and_parent(spans: InMemorySpanExporter) -> None:
    tracer = get_tracer("test")
    with tracer.start_as_current_span("produce"):
        carrier: dict[str, str] = {}
        inject_context(carrier)
        headers = [("content-type", b"application/x-protobuf"), *carrier_to_kafka_headers(carrier)]

    assert all(isinstance(value, bytes) for _, value in headers)
    received = kafka_headers_to_carrier(headers)
    with tracer.start_as_current_span("consume", context=extract_context(received)):
        pass

    produced, consumed = spans.get_finished_spans()
    assert (produced.name, consumed.name) == ("produce", "consume")
    assert consumed.context is not None and produced.context is not None
    assert consumed.context.trace_id == produced.context.trace_id
    assert consumed.parent is not None
    assert consumed.parent.span_id == produced.context.span_id


def test_redis_fields_round_trip_with_bytes_keeps_trace_and_parent(spans: InMemorySpanExporter) -> None:
    tracer = get_tracer("test")
    with tracer.start_as_current_span("relay"):
        carrier: dict[str, str] = {}
        inject_context(carrier)
        fields = {"payload": "opaque", **carrier_to_redis_fields(carrier)}

    # redis-py without decode_responses hands back bytes keys and values.
    raw = {key.encode(): value.encode() for key, value in fields.items()}
    received = redis_fields_to_carrier(raw)
    assert "payload" not in received
    with tracer.start_as_current_span("execute", context=extract_context(received)):
        pass

    relayed, executed = spans.get_finished_spans()
    assert relayed.context is not None and executed.context is not None
    assert executed.context.trace_id == relayed.context.trace_id
    assert executed.parent is not None
    assert executed.parent.span_id == relayed.context.span_id


def test_inject_outside_a_span_writes_nothing_and_extract_of_nothing_gives_a_root(
    spans: InMemorySpanExporter,
) -> None:
    carrier: dict[str, str] = {}
    inject_context(carrier)
    assert carrier == {}

    with get_tracer("test").start_as_current_span("root", context=extract_context({})):
        pass
    [root] = spans.get_finished_spans()
    assert root.parent is None


def test_kafka_headers_tolerate_none_garbage_and_mixed_case() -> None:
    headers: list[tuple[str, bytes | str | None]] = [
        ("TraceParent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ("empty", None),
        ("binary", b"\xff\xfe"),
    ]

    assert kafka_headers_to_carrier(headers) == {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    }
    assert kafka_headers_to_carrier(None) == {}


def test_otlp_exporter_posts_spans_to_the_traces_path() -> None:
    received: list[tuple[str, str]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        configure_tracing("exported", f"http://127.0.0.1:{server.server_port}", [])
        with get_tracer("test").start_as_current_span("shipped"):
            pass
        reset_tracing_for_tests()  # shutdown flushes the batch processor
    finally:
        server.shutdown()
        server.server_close()

    assert received == [("/v1/traces", "application/x-protobuf")]
