"""The reference symbol's closes for a strategy that reads one (``pairs_spread``, ``dual_momentum``).

The backtester joins the reference bar opening at the same time as the traded bar (none: the rule
sees no reference that bar). Live, the traded bar and the reference bar arrive on different
partitions of ``market.bars``, so the reference is read from the store, which ingestion writes
before it publishes: the reference bar of the traded bar's open time is used when stored; when the
reference already has a later bar it has none at that time (as in the backtest); when it has
neither yet, the source waits for it up to ``wait_s`` and then goes on without it (logged).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import asyncpg

from kestrel_contracts.events import datetime_to_ns, ns_to_datetime
from kestrel_platform.logging import get_logger
from kestrel_store.bars import fetch_bars

_log = get_logger("kestrel.inference.reference")
# The stored closes of (symbol, timeframe) for bars opening in [first_ns, end_ns), by open time.
Closes = Callable[[str, str, int, int | None], Awaitable[Mapping[int, float]]]
# The open time of the first stored bar of (symbol, timeframe) at or after ts_ns, or None.
FirstAtOrAfter = Callable[[str, str, int], Awaitable[tuple[int, float] | None]]


@dataclass(frozen=True)
class ReferenceFeed:
    symbol: str
    closes: Closes
    first_at_or_after: FirstAtOrAfter
    wait_s: float = 5.0
    poll_s: float = 0.05

    async def history(self, timeframe: str, first_ns: int, end_ns: int) -> Mapping[int, float]:
        """Closes for a warm-up over traded bars opening in [first_ns, end_ns)."""
        return await self.closes(self.symbol, timeframe, first_ns, end_ns)

    async def close_at(self, timeframe: str, ts_open_ns: int) -> float | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        while True:
            found = await self.first_at_or_after(self.symbol, timeframe, ts_open_ns)
            if found is not None:
                ts, close = found
                return close if ts == ts_open_ns else None  # a later bar: none at this time
            if loop.time() >= deadline:
                _log.warning("reference.missing", symbol=self.symbol, ts_open=ts_open_ns, wait_s=self.wait_s)
                return None
            await asyncio.sleep(self.poll_s)


def store_reference(pool: asyncpg.Pool, symbol: str, *, wait_s: float) -> ReferenceFeed:
    """The reference feed read from ``market.bars``."""

    async def closes(sym: str, timeframe: str, first_ns: int, end_ns: int | None) -> Mapping[int, float]:
        end = ns_to_datetime(end_ns) if end_ns is not None else None
        rows = await fetch_bars(pool, sym, timeframe, ns_to_datetime(first_ns), end)
        return {datetime_to_ns(b.ts): float(b.close) for b in rows}

    async def first_at_or_after(sym: str, timeframe: str, ts_ns: int) -> tuple[int, float] | None:
        rows = await fetch_bars(pool, sym, timeframe, ns_to_datetime(ts_ns), limit=1)
        return (datetime_to_ns(rows[0].ts), float(rows[0].close)) if rows else None

    return ReferenceFeed(symbol, closes, first_at_or_after, wait_s=wait_s)
