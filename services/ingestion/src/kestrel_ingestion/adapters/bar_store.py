"""Where ingested bars are written, and how far each source has published (for resuming).

`PostgresBarStore` is the real one; `InMemoryBarStore` serves unit tests of the pipeline and passes
the same contract tests (services/ingestion/tests/test_bar_store_contract.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

import asyncpg

from kestrel_contracts.events import datetime_to_ns, ns_to_datetime
from kestrel_ingestion.convert import to_row
from kestrel_ingestion.domain import RawBar
from kestrel_store.bars import upsert_bars

SeriesKey = tuple[str, str]  # (symbol, timeframe)


class BarStore(Protocol):
    async def write(self, bars: Sequence[RawBar]) -> int:
        """Upsert bars (a bar already stored is left alone); return how many were new."""
        ...

    async def mark_published(self, source: str, last_ts_open: Mapping[SeriesKey, int]) -> None:
        """Record that `source` has published every bar up to these open times (never moves back)."""
        ...

    async def resume_after(self, source: str, symbol: str, timeframe: str) -> int | None:
        """Open time (ns) of the last bar `source` published for the series, or None."""
        ...


class PostgresBarStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def write(self, bars: Sequence[RawBar]) -> int:
        return await upsert_bars(self._pool, [to_row(bar) for bar in bars], on_conflict="ignore")

    async def mark_published(self, source: str, last_ts_open: Mapping[SeriesKey, int]) -> None:
        if not last_ts_open:
            return
        await self._pool.executemany(
            """
            INSERT INTO market.ingest_checkpoints AS c (source, symbol, timeframe, last_published_ts)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (source, symbol, timeframe) DO UPDATE
            SET last_published_ts = GREATEST(c.last_published_ts, EXCLUDED.last_published_ts),
                updated_at = now()
            """,
            [(source, symbol, tf, ns_to_datetime(ts)) for (symbol, tf), ts in last_ts_open.items()],
        )

    async def resume_after(self, source: str, symbol: str, timeframe: str) -> int | None:
        ts: datetime | None = await self._pool.fetchval(
            # "BTCUSDT" and "BTC/USDT" name the same series.
            "SELECT last_published_ts FROM market.ingest_checkpoints"
            " WHERE source = $1 AND replace(symbol, '/', '') = replace($2, '/', '') AND timeframe = $3",
            source,
            symbol,
            timeframe,
        )
        return None if ts is None else datetime_to_ns(ts)


class InMemoryBarStore:
    def __init__(self) -> None:
        self.bars: dict[tuple[str, str, int], RawBar] = {}
        self.published: dict[tuple[str, str, str], int] = {}

    async def write(self, bars: Sequence[RawBar]) -> int:
        new = 0
        for bar in bars:
            key = (bar.symbol, bar.timeframe, bar.ts_open)
            if key not in self.bars:
                self.bars[key] = bar
                new += 1
        return new

    async def mark_published(self, source: str, last_ts_open: Mapping[SeriesKey, int]) -> None:
        for (symbol, timeframe), ts in last_ts_open.items():
            key = (source, symbol, timeframe)
            self.published[key] = max(ts, self.published.get(key, ts))

    async def resume_after(self, source: str, symbol: str, timeframe: str) -> int | None:
        wanted = symbol.replace("/", "")
        found = [
            ts
            for (src, sym, tf), ts in self.published.items()
            if src == source and tf == timeframe and sym.replace("/", "") == wanted
        ]
        return max(found) if found else None
