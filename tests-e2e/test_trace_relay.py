"""A message produced on Kafka with a trace context and relayed onto a Redis Stream is one trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kestrel_contracts.registry import Channel, Transport
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_messaging import ConsumerOptions, Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.redis_streams import RedisStreamBus
from kestrel_platform.tracing import configure_tracing, get_tracer, reset_tracing_for_tests
from kestrel_testing.messaging import bar, consume_until

FAST = ConsumerOptions(poll_timeout_ms=100, reclaim_idle_ms=1000)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("kestrel-e2e", None, [SimpleSpanProcessor(exporter)])
    yield exporter
    reset_tracing_for_tests()


async def test_kafka_to_redis_stream_relay_yields_one_trace(
    kafka_bootstrap: str, redis_url: str, unique: str, spans: InMemorySpanExporter
) -> None:
    kafka, redis = KafkaBus(kafka_bootstrap), RedisStreamBus(redis_url)
    topic = Channel(f"e2e.bars.{unique}", Transport.KAFKA, Bar, partitions=1)
    stream = Channel(f"e2e.orders.{unique}", Transport.REDIS_STREAM, Bar, max_len=1000)
    await kafka.ensure_channel(topic)
    await redis.ensure_channel(stream)

    with get_tracer("e2e").start_as_current_span("market data arrives") as root:
        await kafka.publish(topic, bar("BTCUSDT", 1))
    trace_id = root.get_span_context().trace_id

    async def relay(delivery: Delivery) -> None:
        await redis.publish(stream, delivery.message)

    try:
        await consume_until(
            kafka.subscribe(topic, group=f"relay.{unique}", consumer="relay-1", options=FAST),
            1,
            handler=relay,
        )
        received = await consume_until(
            redis.subscribe(stream, group=f"exec.{unique}", consumer="exec-1", options=FAST), 1
        )
    finally:
        await kafka.close()
        await redis.close()

    assert received[0].message.symbol == "BTCUSDT"  # type: ignore[attr-defined]
    finished = spans.get_finished_spans()
    by_name = {span.name: span for span in finished}
    hops = [
        f"{topic.name} publish",
        f"{topic.name} process",
        f"{stream.name} publish",
        f"{stream.name} process",
    ]
    assert set(hops) <= by_name.keys()
    assert {span.context.trace_id for span in finished} == {trace_id}
    # Each hop is the child of the one before it: root -> publish -> process -> publish -> process.
    parents = [root.get_span_context().span_id] + [by_name[name].context.span_id for name in hops[:-1]]
    assert [by_name[name].parent.span_id for name in hops] == parents  # type: ignore[union-attr]
