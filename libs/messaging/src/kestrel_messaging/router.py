"""One MessageBus over several transports: each channel goes to the bus of its transport.

Services hold one of these and never care whether a channel is a Kafka topic or a Redis stream;
the registry decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from google.protobuf.message import Message

from kestrel_contracts.registry import Channel, Transport
from kestrel_messaging.envelope import ConsumerOptions
from kestrel_messaging.interface import MessageBus, Subscription


class TransportRouter:
    def __init__(self, buses: Mapping[Transport, MessageBus]) -> None:
        self._buses = dict(buses)

    def bus_for(self, channel: Channel) -> MessageBus:
        try:
            return self._buses[channel.transport]
        except KeyError:
            raise ValueError(
                f"no {channel.transport.value} transport configured for channel {channel.name}"
            ) from None

    async def ensure_channel(self, channel: Channel) -> None:
        await self.bus_for(channel).ensure_channel(channel)

    async def publish(
        self,
        channel: Channel,
        message: Message,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        await self.bus_for(channel).publish(channel, message, key=key, headers=headers)

    async def publish_raw(
        self,
        channel: Channel,
        data: bytes,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        await self.bus_for(channel).publish_raw(channel, data, key=key, headers=headers)

    async def publish_batch(
        self,
        channel: Channel,
        messages: Sequence[Message],
        *,
        trace_per_message: bool = False,
        parents: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        await self.bus_for(channel).publish_batch(
            channel, messages, trace_per_message=trace_per_message, parents=parents
        )

    def subscribe(
        self, channel: Channel, *, group: str, consumer: str, options: ConsumerOptions | None = None
    ) -> Subscription:
        return self.bus_for(channel).subscribe(channel, group=group, consumer=consumer, options=options)

    async def close(self) -> None:
        for bus in {id(b): b for b in self._buses.values()}.values():
            await bus.close()


def connect(kafka_bootstrap: str | None, redis_url: str | None) -> TransportRouter:
    """The router for a service: Kafka for topics, Redis for streams (either may be absent)."""
    from kestrel_messaging.kafka import KafkaBus  # noqa: PLC0415 - only what is configured is loaded
    from kestrel_messaging.redis_streams import RedisStreamBus  # noqa: PLC0415

    buses: dict[Transport, MessageBus] = {}
    if kafka_bootstrap:
        buses[Transport.KAFKA] = KafkaBus(kafka_bootstrap)
    if redis_url:
        buses[Transport.REDIS_STREAM] = RedisStreamBus(redis_url)
    return TransportRouter(buses)
