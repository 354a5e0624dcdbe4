"""Channel creation from the registry, and routing channels to their transport."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]
from redis.asyncio import Redis

from kestrel_contracts.registry import CHANNELS, Channel, Transport, all_channels_with_dlq
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_messaging import InMemoryBus, TransportRouter
from kestrel_messaging.topics import create_all


@pytest.mark.integration
async def test_creating_registry_channels_is_idempotent_and_matches_the_registry(
    kafka_bootstrap: str, redis_url: str
) -> None:
    await create_all(kafka_bootstrap, redis_url)
    assert await create_all(kafka_bootstrap, redis_url) == []  # the second run creates nothing

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    kafka_channels = [c for c in all_channels_with_dlq() if c.transport is Transport.KAFKA]
    for channel in kafka_channels:
        assert len(topics[channel.name].partitions) == channel.partitions, channel.name
    bars = CHANNELS["market.bars"]
    config = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, bars.name)])
    described = next(iter(config.values())).result()
    assert described["retention.ms"].value == str(bars.retention_ms)

    redis = Redis.from_url(redis_url)
    try:
        for channel in all_channels_with_dlq():
            if channel.transport is Transport.REDIS_STREAM:
                assert await redis.type(channel.name) == b"stream", channel.name
    finally:
        await redis.aclose()


async def test_router_sends_each_channel_to_its_transport() -> None:
    kafka_side, redis_side = InMemoryBus(), InMemoryBus()
    router = TransportRouter({Transport.KAFKA: kafka_side, Transport.REDIS_STREAM: redis_side})
    topic = Channel("t.bars", Transport.KAFKA, Bar)
    stream = Channel("s.bars", Transport.REDIS_STREAM, Bar, max_len=10)
    await router.publish(topic, Bar(event_id="a", symbol="X"))
    await router.publish(stream, Bar(event_id="b", symbol="Y"))
    assert [r.key for r in kafka_side.records(topic)] == ["X"]
    assert [r.key for r in redis_side.records(stream)] == ["Y"]
    assert kafka_side.records(stream) == []


async def test_router_without_the_transport_says_which_is_missing() -> None:
    router = TransportRouter({Transport.KAFKA: InMemoryBus()})
    with pytest.raises(ValueError, match=r"no redis_stream transport configured for channel s\.bars"):
        await router.publish(Channel("s.bars", Transport.REDIS_STREAM, Bar, max_len=10), Bar(event_id="b"))
