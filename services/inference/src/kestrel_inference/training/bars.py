"""Where training bars come from: ``market.bars`` in the store, or the installed sample files.

``auto`` reads the store and falls back to the sample that ships the symbol when the store holds no
bars for it (or cannot be reached); the chosen source is reported for every symbol.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg
import numpy as np
import pandas as pd

from kestrel_inference.training.errors import TrainingError
from kestrel_ingestion.domain import RawBar
from kestrel_ingestion.sources.samples import SAMPLES, SampleSource
from kestrel_store.bars import fetch_bars
from kestrel_store.pool import create_pool

SourceChoice = Literal["auto", "store", "sample"]
OHLCV = ("open", "high", "low", "close", "volume")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STORE_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True, slots=True)
class LoadedBars:
    symbol: str
    frame: pd.DataFrame  # ts (int64 ns, ascending), float64 OHLCV
    source: str  # "store" or "sample:<name>"
    note: str = ""  # why a fallback happened


def _frame(ts: list[int], values: dict[str, list[float]]) -> pd.DataFrame:
    # Features are statistics, not money: float64 is their input type (the live service does the same).
    return pd.DataFrame({"ts": np.asarray(ts, dtype=np.int64), **{c: np.asarray(values[c]) for c in OHLCV}})


async def from_store(database_url: str, symbol: str, timeframe: str) -> pd.DataFrame:
    pool = await create_pool(database_url, application_name="kestrel-train", min_size=1, max_size=2)
    try:
        bars = await fetch_bars(pool, symbol, timeframe)
    finally:
        await pool.close()
    ts = [(b.ts - _EPOCH) // timedelta(microseconds=1) * 1_000 for b in bars]
    return _frame(ts, {c: [float(getattr(b, c)) for b in bars] for c in OHLCV})


def sample_for(symbol: str, timeframe: str) -> str | None:
    for name, sample in SAMPLES.items():
        if sample.symbol == symbol and sample.timeframe == timeframe:
            return name
    return None


async def from_sample(name: str) -> pd.DataFrame:
    ts: list[int] = []
    values: dict[str, list[float]] = {c: [] for c in OHLCV}
    async for item in SampleSource(name, speed="max").bars():
        if isinstance(item, RawBar):  # an unreadable row is skipped; the samples have none
            ts.append(item.ts_open)
            for c in OHLCV:
                values[c].append(float(getattr(item, c)))
    frame = _frame(ts, values)
    return frame.sort_values("ts", kind="stable").drop_duplicates("ts", keep="last").reset_index(drop=True)


async def load_bars(symbol: str, timeframe: str, source: SourceChoice, database_url: str) -> LoadedBars:
    sample = sample_for(symbol, timeframe)
    note = ""
    if source in ("auto", "store"):
        try:
            frame = await from_store(database_url, symbol, timeframe)
        except _STORE_ERRORS as exc:
            if source == "store":
                raise TrainingError(f"the store at {_safe(database_url)} is not usable: {exc}") from exc
            frame, note = pd.DataFrame(), f"store not usable ({exc.__class__.__name__})"
        if len(frame):
            return LoadedBars(symbol, frame, "store")
        if source == "store":
            raise TrainingError(f"no {timeframe} bars for {symbol!r} in market.bars")
        note = note or f"no {timeframe} bars in market.bars"
    if sample is None:
        known = ", ".join(sorted({s.symbol for s in SAMPLES.values() if s.timeframe == timeframe}))
        where = (
            "no sample ships it"
            if source == "sample"
            else f"no {timeframe} bars in market.bars and no sample ships it"
        )
        raise TrainingError(f"unknown symbol {symbol!r}: {where} (samples at {timeframe}: {known})")
    return LoadedBars(symbol, await from_sample(sample), f"sample:{sample}", note)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.rsplit('@', 1)[1]}"
