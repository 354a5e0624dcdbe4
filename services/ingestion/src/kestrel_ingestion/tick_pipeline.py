"""Live trades -> store `market.ticks` -> Kafka `market.ticks`, in small batches.

Per batch: (1) insert the ticks (idempotent: a trade is never changed once printed), (2) publish them
keyed by symbol, each starting its own trace. Storing first means a consumer that sees a tick finds
it in the store. A crash between the steps repeats work but loses nothing already stored; a
re-published tick carries the same event id, derived from (venue, symbol, trade id). A batch is cut
at `batch_size` ticks or when the feed has been quiet for `max_batch_delay_s`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kestrel_contracts.decimals import to_wire
from kestrel_contracts.events import derived_event_id, now_ns, ns_to_datetime
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.common_pb2 import SIDE_BUY, SIDE_SELL
from kestrel_contracts.v1.tick_pb2 import Tick
from kestrel_ingestion.adapters.tick_store import TickRow
from kestrel_ingestion.domain import UnreadableRow
from kestrel_ingestion.pipeline import _with_idle_ticks
from kestrel_ingestion.sources.binance_trades import RawTrade
from kestrel_messaging import MessageBus
from kestrel_platform.logging import get_logger

_log = get_logger(__name__)

WriteTicks = Callable[[Sequence[TickRow]], Awaitable[int]]


class TradeSource(Protocol):
    name: str

    def trades(self) -> AsyncIterator[RawTrade | UnreadableRow]: ...


@dataclass
class TickResult:
    stored: int = 0
    published: int = 0
    batches: int = 0
    unreadable: int = 0
    seconds: float = 0.0


def tick_event_id(trade: RawTrade) -> str:
    return derived_event_id("tick", trade.venue, trade.symbol, trade.trade_id)


def to_tick(trade: RawTrade, source: str, ts_init: int) -> Tick:
    return Tick(
        event_id=tick_event_id(trade),
        ts_event=trade.ts,
        ts_init=ts_init,
        symbol=trade.symbol,
        venue=trade.venue,
        price=to_wire(trade.price),
        quantity=to_wire(trade.quantity),
        aggressor_side=SIDE_BUY if trade.side == "BUY" else SIDE_SELL,
        trade_id=trade.trade_id,
        source=source,
    )


def to_row(trade: RawTrade) -> TickRow:
    return TickRow(
        symbol=trade.symbol,
        trade_id=trade.trade_id,
        ts=ns_to_datetime(trade.ts),
        price=trade.price,
        quantity=trade.quantity,
        side=trade.side,
        event_id=tick_event_id(trade),
    )


class TickPipeline:
    def __init__(
        self,
        bus: MessageBus,
        write: WriteTicks,
        *,
        source_name: str = "binance",
        batch_size: int = 1000,
        max_batch_delay_s: float = 0.25,
    ) -> None:
        self._bus, self._write, self._source_name = bus, write, source_name
        self._batch_size, self._max_delay = batch_size, max_batch_delay_s
        self._ticks = channel("market.ticks")

    async def run(self, source: TradeSource, stop: asyncio.Event | None = None) -> TickResult:
        """Until `source` ends or `stop` is set; the batch in hand is stored and published first."""
        result = TickResult()
        started = time.perf_counter()
        batch: list[RawTrade] = []
        async for item in _with_idle_ticks(source.trades(), self._max_delay):
            if stop is not None and stop.is_set():
                break
            if item is None:  # the feed went quiet: do not sit on a partial batch
                await self._flush(batch, result)
            elif isinstance(item, UnreadableRow):
                result.unreadable += 1
                _log.warning("ticks.unreadable", location=item.location, reason=item.reason, raw=item.raw)
            else:
                batch.append(item)
                if len(batch) >= self._batch_size:
                    await self._flush(batch, result)
        await self._flush(batch, result)
        result.seconds = time.perf_counter() - started
        return result

    async def _flush(self, batch: list[RawTrade], result: TickResult) -> None:
        if not batch:
            return
        result.stored += await self._write([to_row(t) for t in batch])
        ts_init = now_ns()
        ticks = [to_tick(t, self._source_name, ts_init) for t in batch]
        await self._bus.publish_batch(self._ticks, ticks, trace_per_message=True)
        result.published += len(batch)
        result.batches += 1
        batch.clear()
