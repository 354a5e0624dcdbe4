"""`run` and `run_batches` written once; each transport supplies only how records are fetched and
marked done (`_consume`), so the three transports cannot drift apart in what they do with a record."""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from kestrel_contracts.registry import Channel
from kestrel_messaging.envelope import BatchHandler, ConsumerOptions, Handler
from kestrel_messaging.processing import DeadLetterSink, Done, Record, process_batch, process_each

Process = Callable[[Sequence[Record], Done], Awaitable[None]]


class SubscriptionBase(abc.ABC):
    # How many records `run` asks `_consume` for at once (batch transports fetch a batch anyway).
    each_limit: int | None = None

    def __init__(
        self, channel: Channel, group: str, options: ConsumerOptions, dead_letter: DeadLetterSink
    ) -> None:
        self._channel, self._group, self._options, self._dead_letter = channel, group, options, dead_letter

    async def run(self, handler: Handler, stop: asyncio.Event) -> None:
        async def each(records: Sequence[Record], done: Done) -> None:
            # On a graceful stop what is left of the fetch stays unacknowledged for the group.
            await process_each(
                self._channel, self._group, records, handler,
                dead_letter=self._dead_letter, options=self._options, done=done, stop=stop,
            )  # fmt: skip

        await self._consume(each, stop, self.each_limit or self._options.batch_size)

    async def run_batches(self, handler: BatchHandler, stop: asyncio.Event) -> None:
        async def batch(records: Sequence[Record], done: Done) -> None:
            await process_batch(
                self._channel, self._group, records, handler,
                dead_letter=self._dead_letter, options=self._options, done=done,
            )  # fmt: skip

        await self._consume(batch, stop, self._options.batch_size)

    async def _held(self, stop: asyncio.Event) -> bool:
        """True when the consumer must not fetch now (it has waited one poll interval, or `stop`)."""
        hold = self._options.hold
        if hold is None or not await hold():
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self._options.poll_timeout_ms / 1000)
        return True

    @abc.abstractmethod
    async def _consume(self, process: Process, stop: asyncio.Event, limit: int) -> None:
        """Fetch records (at most `limit` at a time) until `stop`, hand them to `process`, and mark
        each one done (commit/ack) only when `process` reports it through its `done` callback."""
