"""JSON log lines: fixed keys, trace correlation inside spans, stdlib records through the same renderer."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kestrel_platform.logging import configure_logging, get_logger
from kestrel_platform.tracing import configure_tracing, get_tracer, reset_tracing_for_tests


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_tracing("log-test", None, [SimpleSpanProcessor(InMemorySpanExporter())])
    configure_logging("log-test", "DEBUG", stream=stream)
    yield stream
    reset_tracing_for_tests()
    # Leave no handler writing into this test's buffer for the tests that run after it.
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "stream", None) is stream]:
        root.removeHandler(handler)
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_line_has_the_fixed_keys_and_no_trace_outside_a_span(output: io.StringIO) -> None:
    get_logger("kestrel.test").info("bar.received", symbol="BTCUSDT")

    [line] = lines(output)
    assert line["event"] == "bar.received"
    assert line["symbol"] == "BTCUSDT"
    assert line["level"] == "info"
    assert line["logger"] == "kestrel.test"
    assert line["service"] == "log-test"
    assert line["timestamp"].endswith("Z")
    assert "trace_id" not in line
    assert "span_id" not in line


def test_line_inside_a_span_carries_its_hex_ids(output: io.StringIO) -> None:
    with get_tracer("test").start_as_current_span("handle") as span:
        get_logger("kestrel.test").info("inside")
    ctx = span.get_span_context()

    [line] = lines(output)
    assert line["trace_id"] == format(ctx.trace_id, "032x")
    assert line["span_id"] == format(ctx.span_id, "016x")
    assert len(line["trace_id"]) == 32
    assert len(line["span_id"]) == 16


def test_stdlib_logging_is_rendered_as_the_same_json(output: io.StringIO) -> None:
    with get_tracer("test").start_as_current_span("consume") as span:
        logging.getLogger("aiokafka.consumer").warning("rebalance %s", "started", extra={"group": "g1"})

    [line] = lines(output)
    assert line["event"] == "rebalance started"
    assert line["logger"] == "aiokafka.consumer"
    assert line["level"] == "warning"
    assert line["group"] == "g1"
    assert line["service"] == "log-test"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_level_filters_and_reconfiguring_does_not_duplicate(output: io.StringIO) -> None:
    configure_logging("log-test", "WARNING", stream=output)
    log = get_logger("kestrel.test")

    log.info("dropped")
    log.warning("kept")

    assert [line["event"] for line in lines(output)] == ["kept"]


def test_exceptions_are_rendered_into_the_line(output: io.StringIO) -> None:
    try:
        raise ValueError("bad bar")
    except ValueError:
        get_logger("kestrel.test").exception("handler.failed")

    [line] = lines(output)
    assert line["level"] == "error"
    assert "ValueError: bad bar" in line["exception"]
