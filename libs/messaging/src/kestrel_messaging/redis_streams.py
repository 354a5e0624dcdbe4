"""Redis Streams transport: XADD to publish, consumer groups with XREADGROUP/XACK, XAUTOCLAIM reclaim.

A stream entry has the fields `data` (the protobuf bytes), `key`, and one field per header (the W3C
`traceparent`/`tracestate` among them). Entries are acknowledged only after the handler's effect is
durable; entries a dead consumer left pending are claimed by a live one once they have been idle for
`ConsumerOptions.reclaim_idle_ms`, and a restarted consumer first finishes its own pending entries.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from kestrel_contracts.registry import Channel, Transport
from kestrel_messaging.envelope import ConsumerOptions
from kestrel_messaging.metrics import CONSUMER_LAG, RECLAIMED
from kestrel_messaging.processing import Record
from kestrel_messaging.publishing import PublisherBase
from kestrel_messaging.subscription import Process, SubscriptionBase
from kestrel_platform.logging import get_logger

_log = get_logger(__name__)
_RESERVED = {"data", "key"}
_Entry = tuple[bytes, dict[bytes, bytes]]


def _check(channel: Channel) -> None:
    if channel.transport is not Transport.REDIS_STREAM:
        raise ValueError(f"{channel.name} is a {channel.transport.value} channel, not a Redis stream")


def _record(entry_id: bytes, fields: dict[bytes, bytes]) -> Record:
    headers = {k.decode(): v.decode() for k, v in fields.items() if k.decode() not in _RESERVED}
    key = fields.get(b"key", b"").decode() or None
    return Record(fields.get(b"data", b""), key, headers, entry_id.decode())


def _fields(data: bytes, key: str | None, headers: dict[str, str]) -> dict[Any, Any]:
    clash = _RESERVED & headers.keys()
    if clash:
        raise ValueError(f"header names {sorted(clash)} are reserved on Redis streams")
    return {"data": data, "key": key or "", **headers}


class RedisStreamBus(PublisherBase):
    def __init__(self, url: str) -> None:
        # Byte responses: payloads are protobuf, not text.
        self._redis: aioredis.Redis = aioredis.from_url(url, decode_responses=False, health_check_interval=30)

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    async def ensure_channel(self, channel: Channel) -> None:
        _check(channel)
        for name in (channel.name, channel.dlq.name):
            if not await self._redis.exists(name):
                # MKSTREAM via a throwaway group is the one way to create an empty stream.
                await self._redis.xgroup_create(name, "kestrel.init", id="$", mkstream=True)
                await self._redis.xgroup_destroy(name, "kestrel.init")

    async def _send(self, channel: Channel, data: bytes, key: str | None, headers: dict[str, str]) -> None:
        _check(channel)
        await self._redis.xadd(
            channel.name, _fields(data, key, headers), maxlen=channel.max_len, approximate=True
        )

    async def _send_many(
        self, channel: Channel, items: Sequence[tuple[bytes, str | None, dict[str, str]]]
    ) -> None:
        # One round trip for the whole batch (a pipeline, not a transaction: order is kept).
        _check(channel)
        async with self._redis.pipeline(transaction=False) as pipe:
            for data, key, headers in items:
                pipe.xadd(channel.name, _fields(data, key, headers), maxlen=channel.max_len, approximate=True)
            await pipe.execute()

    def subscribe(
        self, channel: Channel, *, group: str, consumer: str, options: ConsumerOptions | None = None
    ) -> RedisStreamSubscription:
        _check(channel)
        return RedisStreamSubscription(self, channel, group, consumer, options or ConsumerOptions())

    async def close(self) -> None:
        await self._redis.aclose()


class RedisStreamSubscription(SubscriptionBase):
    def __init__(
        self, bus: RedisStreamBus, channel: Channel, group: str, consumer: str, options: ConsumerOptions
    ) -> None:
        super().__init__(channel, group, options, bus.publish)
        self._bus, self._redis, self._consumer = bus, bus.client, consumer
        self._own_backlog = True  # a restarted consumer first re-reads what it was given but never acked
        self._next_reclaim = 0.0

    async def _ensure_group(self) -> None:
        start = "0" if self._options.start_from_beginning else "$"
        try:
            await self._redis.xgroup_create(self._channel.name, self._group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _reclaim(self) -> list[_Entry]:
        """Claim entries other consumers left pending longer than the idle limit (XAUTOCLAIM)."""
        claimed: list[_Entry] = []
        cursor: bytes | str = "0-0"
        while True:
            reply = await self._redis.xautoclaim(
                self._channel.name,
                self._group,
                self._consumer,
                min_idle_time=self._options.reclaim_idle_ms,
                start_id=cursor,
                count=self._options.batch_size,
            )
            cursor, entries = reply[0], reply[1]
            # Entries trimmed from the stream come back without fields: nothing left to process.
            claimed.extend((eid, fields) for eid, fields in entries if fields)
            if cursor in (b"0-0", "0-0") or len(claimed) >= self._options.batch_size:
                break
        if claimed:
            RECLAIMED.labels(self._channel.name, self._group).inc(len(claimed))
            _log.info(
                "reclaimed stale entries",
                channel=self._channel.name,
                group=self._group,
                consumer=self._consumer,
                count=len(claimed),
            )
        return claimed

    async def _read(self, start: str, block_ms: int | None) -> list[_Entry]:
        reply: Any = await self._redis.xreadgroup(
            self._group,
            self._consumer,
            {self._channel.name: start},
            count=self._options.batch_size,
            block=block_ms,
        )
        # Reply shape with byte responses: [[stream, [(entry_id, {field: value}), ...]]].
        return cast(list[_Entry], list(reply[0][1])) if reply else []

    async def _next_batch(self) -> list[_Entry]:
        now = time.monotonic()
        if now >= self._next_reclaim:
            self._next_reclaim = now + max(self._options.reclaim_idle_ms / 2000, 0.05)
            claimed = await self._reclaim()
            await self._report_lag()
            if claimed:
                return claimed
        if self._own_backlog:
            backlog = await self._read("0", None)
            if backlog:
                return backlog
            self._own_backlog = False
        return await self._read(">", self._options.poll_timeout_ms)

    async def _report_lag(self) -> None:
        for info in await self._redis.xinfo_groups(self._channel.name):
            if info.get("name") in (self._group, self._group.encode()):
                lag = info.get("lag") or 0
                CONSUMER_LAG.labels(self._channel.name, self._group, "-").set(
                    int(lag) + int(info.get("pending") or 0)
                )

    async def _consume(self, process: Process, stop: asyncio.Event, limit: int) -> None:
        await self._ensure_group()
        while not stop.is_set():
            if await self._held(stop):
                continue
            entries = await self._next_batch()
            handled: list[bytes] = []
            try:
                if entries:
                    await process(
                        [_record(entry_id, fields) for entry_id, fields in entries],
                        functools.partial(_append_id, handled, entries),
                    )
            finally:
                # One XACK per batch for what was fully handled, also when a handler is cancelled
                # mid-batch: the entry in flight stays pending and is redelivered.
                if handled:
                    await self._redis.xack(self._channel.name, self._group, *handled)


def _append_id(handled: list[bytes], entries: Sequence[_Entry], index: int) -> None:
    handled.append(entries[index][0])
