"""What every publisher does before handing bytes to its transport: type check, key, trace, span.

Transports subclass `PublisherBase` and implement only `_send`, so keying and trace propagation are
written once and behave identically on Kafka, Redis Streams and the in-memory fake.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

from google.protobuf.message import Message
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind

from kestrel_contracts.registry import Channel
from kestrel_messaging import codec
from kestrel_messaging.metrics import MESSAGES_PUBLISHED
from kestrel_platform.tracing import extract_context, get_tracer, inject_context

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
        with self._span(channel, len(data), None):
            carrier = dict(headers or {})
            inject_context(carrier)
            await self._send(channel, data, key, carrier)
        MESSAGES_PUBLISHED.labels(channel.name).inc()

    async def publish_batch(
        self,
        channel: Channel,
        messages: Sequence[Message],
        *,
        trace_per_message: bool = False,
        parents: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        """Publish many messages at once (batched by the transport); returns when all are accepted.

        Each message gets its own publish span; with `trace_per_message` each span starts a new
        trace instead of joining the current one, so that e.g. every ingested bar is traced on its
        own from the market to the fill. With `parents` (W3C headers, one per message) each span
        continues the trace of its parent, e.g. of the consumed message it was derived from.
        """
        if parents is not None and len(parents) != len(messages):
            raise ValueError(f"{len(parents)} parents for {len(messages)} messages")
        items: list[tuple[bytes, str | None, dict[str, str]]] = []
        for index, message in enumerate(messages):
            data = codec.encode(channel, message)
            context = Context() if trace_per_message else None
            if parents is not None:
                context = extract_context(parents[index])
            with self._span(channel, len(data), context):
                carrier: dict[str, str] = {}
                inject_context(carrier)
            items.append((data, channel.key_of(message), carrier))
        await self._send_many(channel, items)
        MESSAGES_PUBLISHED.labels(channel.name).inc(len(items))

    @staticmethod
    def _span(channel: Channel, size: int, context: Context | None) -> AbstractContextManager[Span]:
        return _tracer.start_as_current_span(
            f"{channel.name} publish",
            context=context,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": channel.transport.value,
                "messaging.destination.name": channel.name,
                "messaging.message.body.size": size,
            },
        )

    async def _send_many(
        self, channel: Channel, items: Sequence[tuple[bytes, str | None, dict[str, str]]]
    ) -> None:
        """Send a batch; transports override this when they have a cheaper way than one by one."""
        for data, key, headers in items:
            await self._send(channel, data, key, headers)

    @abc.abstractmethod
    async def _send(self, channel: Channel, data: bytes, key: str | None, headers: dict[str, str]) -> None:
        """Hand the bytes to the transport; return once it has durably accepted them."""
