"""Seeded synthetic market: many crypto-like symbols, regime-switching bars, for load tests and demos.

Symbols are `SYN000USDT`, `SYN001USDT`, ... (no separator; the number is zero-padded to at least three
digits). Each symbol draws from its own random stream keyed by (seed, CRC-32 of its name), so a symbol's
bars depend only on the seed and its name, not on which other symbols are generated with it.
Bars are produced a chunk at a time per symbol (vectorised numpy, see `regimes.py`) and yielded
interleaved by time across symbols, as a live multi-symbol feed delivers them.
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from kestrel_ingestion.domain import RawBar, UnreadableRow, timeframe_ns
from kestrel_ingestion.sources.pacing import Pacer, parse_speed
from kestrel_ingestion.sources.regimes import VOLUME_UNITS, RegimeWalk
from kestrel_ingestion.sources.timestamps import datetime_to_ns

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)
SYNTHETIC_VENUE = "SYNTHETIC"
_CHUNK = 4_096  # bars per symbol per vectorised step; fixed, because the output depends on it
_SIGNIFICANT_TICKS = 4  # tick = 10**(magnitude - 4): about five significant digits, like exchange tick sizes
_VOLUME_STEP = Decimal(1).scaleb(-int(math.log10(VOLUME_UNITS)))


def synthetic_symbols(count: int) -> list[str]:
    """`SYN000USDT` ... for `count` symbols."""
    if count < 1:
        raise ValueError(f"need at least one symbol, got {count}")
    width = max(3, len(str(count - 1)))
    return [f"SYN{i:0{width}d}USDT" for i in range(count)]


def tick_size_for(price: float) -> Decimal:
    """A power-of-ten tick about 1/10,000 of the price."""
    return Decimal(1).scaleb(math.floor(math.log10(price)) - _SIGNIFICANT_TICKS)


class _Symbol:
    def __init__(self, name: str, seed: int, minutes_per_bar: float, tick_size: Decimal | None) -> None:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        start_price = float(math.exp(rng.uniform(math.log(0.05), math.log(60_000))))
        self.name = name
        self.tick = tick_size if tick_size is not None else tick_size_for(start_price)
        base_volume = float(math.exp(rng.uniform(math.log(1.0), math.log(5_000))))
        self.walk = RegimeWalk(
            rng,
            start_price=start_price,
            tick=float(self.tick),
            base_volume=base_volume,
            minutes_per_bar=minutes_per_bar,
        )


class SyntheticSource:
    """`bars` closed bars for each symbol from `start`, deterministic for a seed."""

    def __init__(
        self,
        symbols: int | list[str],
        bars: int,
        timeframe: str = "1m",
        seed: int = 7,
        start: datetime | int = DEFAULT_START,
        *,
        tick_size: Decimal | None = None,
        speed: float | str | None = "max",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.symbols = synthetic_symbols(symbols) if isinstance(symbols, int) else list(symbols)
        if not self.symbols or len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be a positive count or a list of distinct names")
        if bars < 0:
            raise ValueError(f"bars must be >= 0, got {bars}")
        self.bar_count = bars
        self.timeframe = timeframe
        self._step = timeframe_ns(timeframe)
        start_ns = start if isinstance(start, int) else datetime_to_ns(start)
        self.start_ns = start_ns - start_ns % self._step  # aligned, like an exchange's bar grid
        self.seed = seed
        self.tick_size = tick_size
        self.speed = parse_speed(speed)
        self._clock = clock
        self._sleep = sleep
        self.name = f"synthetic:{len(self.symbols)}x{bars}@{timeframe}/seed={seed}"

    def iter_bars(self) -> Iterator[RawBar]:
        """All bars, time-major (every symbol's bar t before any bar t+1), synchronously."""
        minutes = self._step / timeframe_ns("1m")
        states = [_Symbol(name, self.seed, minutes, self.tick_size) for name in self.symbols]
        timeframe = self.timeframe
        for first in range(0, self.bar_count, _CHUNK):
            n = min(_CHUNK, self.bar_count - first)
            columns = []
            for state in states:
                chunk = state.walk.next_chunk(n)
                tick = state.tick
                # tolist() gives Python ints, which Decimal takes exactly and fast.
                columns.append(
                    (
                        state.name,
                        tick,
                        chunk.open.tolist(),
                        chunk.high.tolist(),
                        chunk.low.tolist(),
                        chunk.close.tolist(),
                        chunk.volume.tolist(),
                    )
                )
            for i in range(n):
                ts_open = self.start_ns + (first + i) * self._step
                for name, tick, opens, highs, lows, closes, volumes in columns:
                    yield RawBar(
                        symbol=name,
                        timeframe=timeframe,
                        ts_open=ts_open,
                        open=Decimal(opens[i]) * tick,
                        high=Decimal(highs[i]) * tick,
                        low=Decimal(lows[i]) * tick,
                        close=Decimal(closes[i]) * tick,
                        volume=Decimal(volumes[i]) * _VOLUME_STEP,
                        source="synthetic",
                        venue=SYNTHETIC_VENUE,
                    )

    async def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        pacer = Pacer(self.speed, clock=self._clock, sleep=self._sleep)
        for bar in self.iter_bars():
            await pacer.wait(bar.ts_close)
            yield bar
