"""An in-memory bus with consumer groups, for unit tests of pure logic.

It keeps the observable semantics of the real transports (at-least-once, ack after the effect,
redelivery of what a dead consumer left unacknowledged, per-key order, DLQ) and is held to them by
the same contract suite that runs against Kafka and Redis (libs/messaging/tests/test_contract.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from kestrel_contracts.registry import Channel
from kestrel_messaging.envelope import ConsumerOptions
from kestrel_messaging.processing import Record
from kestrel_messaging.publishing import PublisherBase
from kestrel_messaging.subscription import Process, SubscriptionBase


@dataclass
class _Group:
    next_index: int
    pending: dict[int, tuple[str, float]] = field(default_factory=dict)  # index -> (consumer, since)


class InMemoryBus(PublisherBase):
    def __init__(self) -> None:
        self._logs: dict[str, list[Record]] = defaultdict(list)
        self._groups: dict[tuple[str, str], _Group] = {}
        self._arrived = asyncio.Condition()

    def records(self, channel: Channel) -> list[Record]:
        """Everything published on a channel, in order (for assertions in tests)."""
        return list(self._logs[channel.name])

    async def ensure_channel(self, channel: Channel) -> None:
        self._logs.setdefault(channel.name, [])
        self._logs.setdefault(channel.dlq.name, [])

    async def _send(self, channel: Channel, data: bytes, key: str | None, headers: dict[str, str]) -> None:
        log = self._logs[channel.name]
        log.append(Record(data, key, dict(headers), str(len(log))))
        async with self._arrived:
            self._arrived.notify_all()

    def subscribe(
        self, channel: Channel, *, group: str, consumer: str, options: ConsumerOptions | None = None
    ) -> _MemorySubscription:
        return _MemorySubscription(self, channel, group, consumer, options or ConsumerOptions())

    def _group(self, channel: Channel, group: str, from_beginning: bool) -> _Group:
        key = (channel.name, group)
        if key not in self._groups:
            self._groups[key] = _Group(0 if from_beginning else len(self._logs[channel.name]))
        return self._groups[key]

    async def close(self) -> None:
        return None


class _MemorySubscription(SubscriptionBase):
    # One at a time for `run`: what this consumer has not claimed stays free for the others on a stop.
    each_limit = 1

    def __init__(
        self, bus: InMemoryBus, channel: Channel, group: str, consumer: str, options: ConsumerOptions
    ) -> None:
        super().__init__(channel, group, options, bus.publish)
        self._bus, self._consumer = bus, consumer

    def _claim(self, group: _Group, limit: int) -> list[int]:
        """Stale entries of other consumers first (like XAUTOCLAIM), else the next new ones."""
        now = time.monotonic()
        claimed: list[int] = []
        for index, (owner, since) in sorted(group.pending.items()):
            if owner != self._consumer and (now - since) * 1000 >= self._options.reclaim_idle_ms:
                group.pending[index] = (self._consumer, now)
                claimed.append(index)
                if len(claimed) >= limit:
                    return claimed
        if claimed:
            return claimed
        log = self._bus._logs[self._channel.name]
        while group.next_index < len(log) and len(claimed) < limit:
            index = group.next_index
            group.next_index += 1
            group.pending[index] = (self._consumer, now)
            claimed.append(index)
        return claimed

    async def _consume(self, process: Process, stop: asyncio.Event, limit: int) -> None:
        group = self._bus._group(self._channel, self._group, self._options.start_from_beginning)
        while not stop.is_set():
            if await self._held(stop):
                continue
            indices = self._claim(group, limit)
            if not indices:
                async with self._bus._arrived:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._bus._arrived.wait(), self._options.poll_timeout_ms / 1000
                        )
                continue
            log = self._bus._logs[self._channel.name]
            await process([log[index] for index in indices], functools.partial(_release, group, indices))


def _release(group: _Group, indices: Sequence[int], done: int) -> None:
    """The `done`-th claimed entry was handled: acknowledge it."""
    group.pending.pop(indices[done], None)
