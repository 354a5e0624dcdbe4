"""Replay of OHLCV files (CSV, gzipped CSV, Parquet) as a BarSource.

The file is streamed, never loaded whole. Rows that are not bars come out as UnreadableRow with their
`file:line` location (Parquet: `file:row`, counting data rows from 1) and never stop the replay.
The symbol comes from a symbol/ticker column when there is one, else from `symbol=`, else from the
file name (`EURUSD.csv` -> `EURUSD`). The timeframe is `timeframe=` or, when omitted, the median
spacing of the first rows of each symbol, which must be one of the known timeframes.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from itertools import islice, pairwise
from pathlib import Path

from kestrel_ingestion.domain import NS_PER_SECOND, RawBar, UnreadableRow, timeframe_ns
from kestrel_ingestion.sources.columns import ColumnMap, FileFormatError
from kestrel_ingestion.sources.pacing import Pacer, parse_speed
from kestrel_ingestion.sources.readers import (
    RowItem,
    csv_columns,
    is_parquet,
    iter_csv,
    iter_parquet,
    parquet_columns,
)
from kestrel_ingestion.sources.rows import RowError, RowParser
from kestrel_ingestion.sources.timestamps import EpochUnit

_TIMEFRAMES = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "1w")
_INFER_ROWS = 2_000
_RAW_LIMIT = 200

SleepFn = Callable[[float], Awaitable[None]]


def infer_timeframe(timestamps_by_symbol: dict[str, list[int]], source: str) -> str:
    """The known timeframe equal to the median positive spacing; FileFormatError otherwise."""
    spacings: list[int] = []
    for stamps in timestamps_by_symbol.values():
        ordered = sorted(set(stamps))
        spacings.extend(b - a for a, b in pairwise(ordered))
    if not spacings:
        raise FileFormatError(f"{source}: too few readable rows to infer the timeframe; pass timeframe=")
    median = int(statistics.median_low(spacings))
    for name in _TIMEFRAMES:
        if timeframe_ns(name) == median:
            return name
    raise FileFormatError(
        f"{source}: median bar spacing {median / NS_PER_SECOND:g}s is not a known "
        f"timeframe ({', '.join(_TIMEFRAMES)}); pass timeframe="
    )


def default_symbol(path: Path) -> str:
    return path.name.split(".")[0].upper()


class FileSource:
    """Replays one file at max speed (`speed="max"`) or N x real time (`speed=10` or `"10x"`).

    The header (and, without `timeframe=`, the first rows) is read here, so a file that cannot be
    replayed at all fails at construction with FileFormatError. `ts_unit` fixes the unit of epoch
    numbers when their size would mislead; `chunk_rows` is the Parquet batch size (CSV streams line by
    line); `clock`/`sleep` are injectable so that pacing can be tested without waiting.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        symbol: str | None = None,
        timeframe: str | None = None,
        speed: float | str | None = "max",
        venue: str = "",
        source: str = "replay",
        ts_unit: EpochUnit = "auto",
        chunk_rows: int = 65_536,
        clock: Callable[[], float] = time.monotonic,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no such file: {self.path}")
        self.name = f"file:{self.path.name}"
        self.speed = parse_speed(speed)
        self._chunk_rows = chunk_rows
        self._clock = clock
        self._sleep = sleep
        self._has_header = True
        if is_parquet(self.path):
            self.columns, native_ts = parquet_columns(self.path)
            ts_unit = "ns" if native_ts else ts_unit
        else:
            self.columns, self._has_header = csv_columns(self.path)
        self.symbol = symbol or default_symbol(self.path)
        probe = RowParser(
            self.columns, symbol=self.symbol, timeframe="1m", source=source, venue=venue, ts_unit=ts_unit
        )
        if timeframe is None:
            self.timeframe = self._infer(probe)
        else:
            timeframe_ns(timeframe)  # an unknown timeframe fails here, not on the first row
            self.timeframe = timeframe
        self._parser = RowParser(
            self.columns,
            symbol=self.symbol,
            timeframe=self.timeframe,
            source=source,
            venue=venue,
            ts_unit=ts_unit,
        )

    def _rows(self) -> Iterator[RowItem]:
        if is_parquet(self.path):
            return iter_parquet(self.path, self.columns, self._chunk_rows)
        return iter_csv(self.path, self._has_header)

    def _infer(self, probe: RowParser) -> str:
        stamps: dict[str, list[int]] = defaultdict(list)
        for item in islice(self._rows(), _INFER_ROWS):
            if isinstance(item, UnreadableRow):
                continue
            try:
                stamps[probe.symbol_of(item[1])].append(probe.timestamp_of(item[1]))
            except (RowError, IndexError):
                continue
        return infer_timeframe(stamps, self.path.name)

    def items(self) -> Iterator[RawBar | UnreadableRow]:
        """The file's bars and unreadable rows in file order, synchronously and unpaced."""
        parse = self._parser.parse
        for item in self._rows():
            if isinstance(item, UnreadableRow):
                yield item
                continue
            location, cells = item
            try:
                yield parse(cells)
            except (RowError, IndexError) as exc:
                yield UnreadableRow(location=location, reason=str(exc), raw=_raw(cells))

    async def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        # Local file reads are short and the pacer hands the loop back every few hundred rows.
        pacer = Pacer(self.speed, clock=self._clock, sleep=self._sleep)
        for item in self.items():
            if isinstance(item, RawBar):
                await pacer.wait(item.ts_close)
            yield item


def _raw(cells: object) -> str:
    if isinstance(cells, list | tuple):
        return ",".join("" if c is None else str(c) for c in cells)[:_RAW_LIMIT]
    return repr(cells)[:_RAW_LIMIT]


__all__ = ["ColumnMap", "FileFormatError", "FileSource", "infer_timeframe"]
