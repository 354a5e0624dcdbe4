"""Helpers for tests that publish and consume through a MessageBus."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_messaging import Delivery, MessageBus, Subscription


@dataclass
class BusCase:
    kind: str
    bus: MessageBus
    channel: Channel

    def group(self, name: str) -> str:
        return f"{self.channel.name}.{name}"


def bar(symbol: str, seq: int, event_id: str | None = None) -> Bar:
    return Bar(
        event_id=event_id or str(uuid.uuid5(uuid.NAMESPACE_OID, f"{symbol}/{seq}")),
        symbol=symbol,
        timeframe="1m",
        ts_event=1_700_000_000_000_000_000 + seq * 60_000_000_000,
        ts_init=1_700_000_000_000_000_000 + seq * 60_000_000_000 + 1,
        open="100.5",
        high="101",
        low="99.25",
        close="100",
        volume="12.5",
    )


async def consume_until(
    sub: Subscription,
    count: int,
    *,
    handler: Callable[[Delivery], Awaitable[None]] | None = None,
    within_s: float = 30.0,
    where: Callable[[Delivery], bool] | None = None,
) -> list[Delivery]:
    """Run `sub` until `count` deliveries were handled (or fail after `within_s` seconds).

    With `where`, only deliveries it accepts are kept and counted (the others are still handled),
    for tests that read a shared channel.
    """
    got: list[Delivery] = []
    stop = asyncio.Event()

    async def collect(delivery: Delivery) -> None:
        if handler is not None:
            await handler(delivery)
        if where is not None and not where(delivery):
            return
        got.append(delivery)
        if len(got) >= count:
            stop.set()

    task = asyncio.create_task(sub.run(collect, stop))
    try:
        await asyncio.wait_for(asyncio.shield(stop.wait()), within_s)
    finally:
        stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, 15)
    if task.done() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
    return got
