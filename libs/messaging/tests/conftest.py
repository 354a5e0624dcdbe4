"""One contract suite, three transports: the in-memory fake, real Kafka and real Redis Streams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kestrel_contracts.registry import Channel, Transport
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_messaging import InMemoryBus, MessageBus
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.redis_streams import RedisStreamBus
from kestrel_testing.messaging import BusCase


@pytest.fixture(autouse=True)
def _traced(tracing: None) -> None:
    """Every contract test runs with real tracing (the shared `tracing` fixture)."""


@pytest.fixture(
    params=[
        "memory",
        pytest.param("kafka", marks=pytest.mark.integration),
        pytest.param("redis", marks=pytest.mark.integration),
    ]
)
async def case(request: pytest.FixtureRequest, unique: str) -> AsyncIterator[BusCase]:
    kind: str = request.param
    bus: MessageBus
    if kind == "kafka":
        bus = KafkaBus(request.getfixturevalue("kafka_bootstrap"))
        transport = Transport.KAFKA
    elif kind == "redis":
        bus = RedisStreamBus(request.getfixturevalue("redis_url"))
        transport = Transport.REDIS_STREAM
    else:
        bus = InMemoryBus()
        transport = Transport.KAFKA
    channel = Channel(name=f"test.bars.{unique}", transport=transport, message_type=Bar, partitions=3)
    await bus.ensure_channel(channel)
    yield BusCase(kind, bus, channel)
    await bus.close()
