"""One row of cells -> RawBar. Shared by the CSV and Parquet readers.

CSV cells are always text; Parquet cells keep their column type. Prices become Decimal from the text
itself; a binary float (a Parquet double column) goes through `repr`, the shortest text that reads
back as the same float, so 0.1 stays 0.1 rather than 0.1000000000000000055511151231257827.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from kestrel_ingestion.domain import RawBar
from kestrel_ingestion.sources.columns import ColumnMap
from kestrel_ingestion.sources.timestamps import EpochUnit, datetime_to_ns, epoch_to_ns, parse_timestamp

Cell = str | int | float | Decimal | datetime | date | None

_ZERO = Decimal(0)


class RowError(ValueError):
    """This row is not a bar; the message says why (it becomes UnreadableRow.reason)."""


def to_decimal(cell: Cell, field: str) -> Decimal:
    if isinstance(cell, str):
        text = cell.strip()
        if not text:
            raise RowError(f"{field} is empty")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise RowError(f"{field} {cell!r} is not a number") from None
    elif isinstance(cell, float):
        value = Decimal(repr(cell))
    elif isinstance(cell, int | Decimal) and not isinstance(cell, bool):
        value = Decimal(cell)
    elif cell is None:
        raise RowError(f"{field} is empty")
    else:
        raise RowError(f"{field} {cell!r} is not a number")
    if not value.is_finite():
        raise RowError(f"{field} {cell!r} is not a finite number")
    return value


def to_ns(cell: Cell, unit: EpochUnit) -> int:
    try:
        if isinstance(cell, str):
            return parse_timestamp(cell, unit)
        if isinstance(cell, datetime):
            return datetime_to_ns(cell)
        if isinstance(cell, date):
            return datetime_to_ns(datetime(cell.year, cell.month, cell.day, tzinfo=UTC))
        if isinstance(cell, int | Decimal | float) and not isinstance(cell, bool):
            return epoch_to_ns(Decimal(repr(cell)) if isinstance(cell, float) else cell, unit)
    except (ValueError, InvalidOperation, OverflowError) as exc:
        raise RowError(str(exc)) from None
    raise RowError(f"timestamp {cell!r} is empty or not a time")


class RowParser:
    """Turns the cells of one row into a RawBar, or raises RowError saying which field is wrong."""

    def __init__(
        self,
        columns: ColumnMap,
        *,
        symbol: str,
        timeframe: str,
        source: str,
        venue: str,
        ts_unit: EpochUnit = "auto",
    ) -> None:
        self._columns = columns
        self._symbol = symbol
        self._timeframe = timeframe
        self._source = source
        self._venue = venue
        self._ts_unit: EpochUnit = ts_unit

    def symbol_of(self, cells: Sequence[Cell]) -> str:
        index = self._columns.symbol
        if index is None:
            return self._symbol
        cell = cells[index]
        text = "" if cell is None else str(cell).strip()
        return text or self._symbol

    def timestamp_of(self, cells: Sequence[Cell]) -> int:
        return to_ns(cells[self._columns.ts], self._ts_unit)

    def parse(self, cells: Sequence[Cell]) -> RawBar:
        c = self._columns
        if len(cells) < c.width:
            raise RowError(f"{len(cells)} fields, expected at least {c.width}")
        quote_volume = None
        if c.quote_volume is not None and cells[c.quote_volume] not in (None, ""):
            quote_volume = to_decimal(cells[c.quote_volume], "quote_volume")
        trade_count = None
        if c.trades is not None and cells[c.trades] not in (None, ""):
            trades = to_decimal(cells[c.trades], "trades")
            if trades != trades.to_integral_value():
                raise RowError(f"trades {cells[c.trades]!r} is not a whole number")
            trade_count = int(trades)
        return RawBar(
            symbol=self.symbol_of(cells),
            timeframe=self._timeframe,
            ts_open=self.timestamp_of(cells),
            open=to_decimal(cells[c.open], "open"),
            high=to_decimal(cells[c.high], "high"),
            low=to_decimal(cells[c.low], "low"),
            close=to_decimal(cells[c.close], "close"),
            # A layout without volume (some FX exports) gets 0: "none reported", never an estimate.
            volume=_ZERO if c.volume is None else to_decimal(cells[c.volume], "volume"),
            source=self._source,
            venue=self._venue,
            quote_volume=quote_volume,
            trade_count=trade_count,
        )
