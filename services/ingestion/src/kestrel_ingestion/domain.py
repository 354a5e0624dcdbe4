"""Pure market-data types of the ingestion service: no Kafka, SQL or HTTP here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

NS_PER_SECOND = 1_000_000_000

_TIMEFRAME_SECONDS = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "1w": 604800,
}


def timeframe_ns(timeframe: str) -> int:
    """Length of one bar of `timeframe` in nanoseconds; ValueError naming the known ones otherwise."""
    try:
        return _TIMEFRAME_SECONDS[timeframe] * NS_PER_SECOND
    except KeyError:
        raise ValueError(f"unknown timeframe {timeframe!r}; known: {', '.join(_TIMEFRAME_SECONDS)}") from None


@dataclass(frozen=True, slots=True)
class RawBar:
    """One OHLCV bar as a source delivers it, before validation.

    `ts_open` is the bar's open time (ns since epoch); the bar closes at `ts_open + timeframe`.
    Prices and volume are Decimal (parsed from the source's text, never through float).
    `closed` is False for a still-forming bar (a live WebSocket kline); only closed bars are published.
    """

    symbol: str
    timeframe: str
    ts_open: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    source: str
    venue: str = ""
    closed: bool = True
    quote_volume: Decimal | None = None
    trade_count: int | None = None

    @property
    def ts_close(self) -> int:
        return self.ts_open + timeframe_ns(self.timeframe)


class BarSource(Protocol):
    """Anything that yields bars: an exchange, a file replay, the synthetic generator.

    Bars of one symbol come in time order as far as the source knows; validation catches the rest.
    A source that fails part-way (network) raises; what was stored stays, so a rerun resumes.
    """

    name: str

    def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        """Bars in order; a row that cannot be read is yielded as UnreadableRow, never raised."""
        ...


@dataclass(frozen=True, slots=True)
class UnreadableRow:
    """A row of a file or a message of a feed that is not a bar: reported, never silently dropped."""

    location: str  # e.g. "data.csv:17" or "ws btcusdt@kline_1m"
    reason: str
    raw: str = ""
