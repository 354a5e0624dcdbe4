"""Which column of a file holds what: tolerant of the common OHLCV layouts.

Names are matched case-insensitively after trimming; the first candidate present wins, so `Close` is
preferred over `Adj Close`, and `open_time` over `close_time`. A file written from a pandas frame has
its time index as an unnamed first column, which is used when no named time column exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TIME_NAMES = (
    "open_time",
    "ts_open",
    "timestamp",
    "ts",
    "datetime",
    "date",
    "time",
    "open time",
    "date_time",
    "__index_level_0__",
    "unnamed: 0",
    "",
)
OPEN_NAMES = ("open", "o", "open_price")
HIGH_NAMES = ("high", "h", "high_price")
LOW_NAMES = ("low", "l", "low_price")
CLOSE_NAMES = ("close", "c", "close_price", "last")
VOLUME_NAMES = ("volume", "vol", "v", "base_volume")
SYMBOL_NAMES = ("symbol", "ticker", "pair", "instrument", "asset")
QUOTE_VOLUME_NAMES = ("quote_volume", "quote_asset_volume", "quote volume")
TRADES_NAMES = ("trades", "trade_count", "number_of_trades", "count")


class FileFormatError(ValueError):
    """The file as a whole cannot be replayed (no usable header, no time column...): raised up front."""


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Positions of the bar fields in a row; optional fields are None when the file lacks them."""

    ts: int
    open: int
    high: int
    low: int
    close: int
    volume: int | None
    symbol: int | None
    quote_volume: int | None
    trades: int | None

    @property
    def width(self) -> int:
        """A row needs at least this many cells to hold every mapped field."""
        present = [
            i
            for i in (
                self.ts,
                self.open,
                self.high,
                self.low,
                self.close,
                self.volume,
                self.symbol,
                self.quote_volume,
                self.trades,
            )
            if i is not None
        ]
        return max(present) + 1


def _find(normalized: Sequence[str], names: Sequence[str]) -> int | None:
    for name in names:
        if name in normalized:
            return normalized.index(name)
    return None


def map_columns(header: Sequence[str], source: str) -> ColumnMap:
    """Header names -> ColumnMap; FileFormatError naming what is missing and what was found."""
    normalized = [name.strip().lower() for name in header]
    missing: list[str] = []

    def required(field: str, names: Sequence[str]) -> int:
        index = _find(normalized, names)
        if index is None:
            missing.append(field)
            return -1
        return index

    ts, open_, high, low, close = (
        required(field, names)
        for field, names in (
            ("time", TIME_NAMES),
            ("open", OPEN_NAMES),
            ("high", HIGH_NAMES),
            ("low", LOW_NAMES),
            ("close", CLOSE_NAMES),
        )
    )
    if missing:
        raise FileFormatError(
            f"{source}: no {'/'.join(missing)} column among {list(header)}; "
            f"time columns recognised: {', '.join(n for n in TIME_NAMES if n)}"
        )
    return ColumnMap(
        ts=ts,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=_find(normalized, VOLUME_NAMES),
        symbol=_find(normalized, SYMBOL_NAMES),
        quote_volume=_find(normalized, QUOTE_VOLUME_NAMES),
        trades=_find(normalized, TRADES_NAMES),
    )
