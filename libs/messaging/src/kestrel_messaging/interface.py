"""The one interface every transport implements: Kafka, Redis Streams and the in-memory fake."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

from google.protobuf.message import Message

from kestrel_contracts.registry import Channel
from kestrel_messaging.envelope import BatchHandler, ConsumerOptions, Handler


class Subscription(Protocol):
    """A consumer-group member on one channel."""

    async def run(self, handler: Handler, stop: asyncio.Event) -> None:
        """Deliver messages to `handler` until `stop` is set.

        A message is committed/acknowledged only after the handler returned (its effect is durable)
        or after it was dead-lettered. On `stop` the in-flight message is finished and committed
        before returning; on cancellation nothing further is committed, so the group sees it again.
        """
        ...

    async def run_batches(self, handler: BatchHandler, stop: asyncio.Event) -> None:
        """Like `run`, but `handler` gets the decoded deliveries of one fetch at a time, in order.

        Undecodable records are dead-lettered on their own and left out of the batch. The whole fetch
        is committed only after the handler returned. If it raises, the batch's deliveries go one by
        one through the per-message path (retries, PermanentError to the DLQ), each as a batch of
        one, so a poison message neither blocks nor loses the others. On `stop` the fetch in hand is
        finished and committed; on cancellation nothing further is committed.
        """
        ...


class MessageBus(Protocol):
    """Publish to and subscribe on channels of one transport."""

    async def ensure_channel(self, channel: Channel) -> None:
        """Create the channel (topic / stream) and its DLQ if missing; a no-op when they exist."""
        ...

    async def publish(
        self,
        channel: Channel,
        message: Message,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Publish one message; returns once the transport has durably accepted it.

        The key defaults to the channel's key field of the message; the current trace context is
        added to the headers (W3C traceparent).
        """
        ...

    async def publish_raw(
        self,
        channel: Channel,
        data: bytes,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Publish bytes as they are (DLQ replays and tests of malformed input)."""
        ...

    async def publish_batch(
        self,
        channel: Channel,
        messages: Sequence[Message],
        *,
        trace_per_message: bool = False,
        parents: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        """Publish many messages in one go, keyed like `publish`; returns when all are accepted.

        `trace_per_message`: each message starts its own trace; `parents`: message i continues the
        trace of the W3C headers `parents[i]` (of the message it was derived from).
        """
        ...

    def subscribe(
        self, channel: Channel, *, group: str, consumer: str, options: ConsumerOptions | None = None
    ) -> Subscription:
        """A member named `consumer` of consumer group `group` on `channel`."""
        ...

    async def close(self) -> None:
        """Flush what is pending and release connections."""
        ...
