"""Where a backtest's bars come from: the store's ``market.bars`` (what the service reads, with the
event ids ingestion gave them, so signals and orders get the ids live gave them), or a packaged
sample (what the CLI falls back to on a machine with no store)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import numpy as np
import pandas as pd

from kestrel_backtest.domain import BacktestInputError, MarketData, timeframe_ns, with_bar_identity
from kestrel_contracts.events import datetime_to_ns
from kestrel_store.bars import Bar, fetch_bars

SAMPLES = {"SP500": "sp500", "NASDAQ": "nasdaq"}


def bars_frame(rows: Sequence[Bar], timeframe: str) -> pd.DataFrame:
    """Stored bars as the engine's frame: ns times, float OHLCV (exact through their shortest text)."""
    ts = np.array([datetime_to_ns(r.ts) for r in rows], dtype=np.int64)
    return pd.DataFrame(
        {
            "ts": ts,
            "ts_event": ts + timeframe_ns(timeframe),
            "open": np.array([float(r.open) for r in rows]),
            "high": np.array([float(r.high) for r in rows]),
            "low": np.array([float(r.low) for r in rows]),
            "close": np.array([float(r.close) for r in rows]),
            "volume": np.array([float(r.volume) for r in rows]),
            "event_id": [str(r.event_id) for r in rows],
        }
    )


async def store_market(
    pool: asyncpg.Pool,
    symbols: Sequence[str],
    timeframe: str,
    start: datetime,
    end: datetime,
    *,
    reference: str | None = None,
) -> MarketData:
    bars = {s: bars_frame(await fetch_bars(pool, s, timeframe, start, end), timeframe) for s in symbols}
    ref = None
    if reference is not None:
        ref_frame = bars.get(reference)
        if ref_frame is None:
            ref_frame = bars_frame(await fetch_bars(pool, reference, timeframe, start, end), timeframe)
        if ref_frame.empty:
            raise BacktestInputError(f"no {timeframe} bars of reference symbol {reference} in the range")
        ref = ref_frame[["ts", "close"]]
    return MarketData(bars, ref)


def sample_market(
    symbols: Sequence[str], start: datetime | None, end: datetime | None, reference: str | None = None
) -> MarketData:
    """Daily bars of the packaged samples (SP500, NASDAQ), cut to [start, end)."""
    from kestrel_featurelib.samples import arch_daily_bars  # noqa: PLC0415 - a dev-only dependency

    def load(symbol: str) -> pd.DataFrame:
        if symbol not in SAMPLES:
            raise BacktestInputError(f"no packaged sample of {symbol}; samples: {', '.join(SAMPLES)}")
        frame = arch_daily_bars(SAMPLES[symbol])  # type: ignore[arg-type]
        lo = datetime_to_ns(start) if start is not None else np.iinfo(np.int64).min
        hi = datetime_to_ns(end) if end is not None else np.iinfo(np.int64).max
        frame = frame[(frame["ts"] >= lo) & (frame["ts"] < hi)].reset_index(drop=True)
        return with_bar_identity(frame, symbol, "SAMPLE", "1d")

    bars = {s: load(s) for s in symbols}
    ref = (bars[reference] if reference in bars else load(reference))[["ts", "close"]] if reference else None
    return MarketData(bars, ref)
