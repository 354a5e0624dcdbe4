"""What every publisher does before handing bytes to its transport: type check, key, trace, span.

Transports subclass `PublisherBase` and implement only `_send`, so keying and trace propagation are
written once and behave identically on Kafka, Redis Streams and the in-memory fake.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

from google.protobuf.message import Message
from opentelemetry.trace import SpanKind

from kestrel_contracts.registry import Channel
from kestrel_messaging import codec
from kestrel_messaging.metrics import MESSAGES_PUBLISHED
from kestrel_platform.tracing import get_tracer, inject_context

_tracer = get_tracer("kestrel.messaging")


class PublisherBase(abc.ABC):
    async def publish(
        self,
        channel: Channel,
        message: Message,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = codec.encode(channel, message)
        await self.publish_raw(
            channel, data, key=key if key is not None else channel.key_of(message), headers=headers
        )

    async def publish_raw(
        self,
        channel: Channel,
        data: bytes,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        with _tracer.start_as_current_span(
            f"{channel.name} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": channel.transport.value,
                "messaging.destination.name": channel.name,
                "messaging.message.body.size": len(data),
            },
        ):
            carrier = dict(headers or {})
            inject_context(carrier)
            await self._send(channel, data, key, carrier)
        MESSAGES_PUBLISHED.labels(channel.name).inc()

    @abc.abstractmethod
    async def _send(self, channel: Channel, data: bytes, key: str | None, headers: dict[str, str]) -> None:
        """Hand the bytes to the transport; return once it has durably accepted them."""
