"""Streaming row readers for CSV (optionally gzipped) and Parquet files.

Each reader yields `(location, cells)` pairs or an UnreadableRow, one row at a time, holding at most one
chunk in memory. CSV goes through the standard `csv` module rather than a columnar reader so that every
row keeps its exact physical line number and a malformed line is reported on its own instead of failing
its whole chunk; all CSV cells stay text, so numbers never pass through a float.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kestrel_ingestion.domain import UnreadableRow
from kestrel_ingestion.sources.columns import ColumnMap, FileFormatError, map_columns
from kestrel_ingestion.sources.rows import Cell

RowItem = tuple[str, Sequence[Cell]] | UnreadableRow

# The headerless layout of exchange kline dumps: open_time, open, high, low, close, volume,
# close_time, quote_volume, trades, taker_buy_base, taker_buy_quote, ignore.
KLINE_DUMP = ColumnMap(
    ts=0, open=1, high=2, low=3, close=4, volume=5, symbol=None, quote_volume=None, trades=None
)
_KLINE_DUMP_FULL_WIDTH = 9
_RAW_LIMIT = 200

PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def _open_text(path: Path) -> IO[str]:
    # errors="replace": an undecodable byte spoils only its own row (it fails to parse as a number).
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return path.open(encoding="utf-8-sig", errors="replace", newline="")


def _looks_like_data(row: Sequence[str]) -> bool:
    try:
        [float(cell) for cell in row[:6]]
    except ValueError:
        return False
    return len(row) >= 6


def csv_columns(path: Path) -> tuple[ColumnMap, bool]:
    """The file's column map and whether its first line is a header (False for kline dumps)."""
    with _open_text(path) as stream:
        first = next(csv.reader(stream), None)
    if first is None:
        raise FileFormatError(f"{path.name}: empty file")
    if _looks_like_data(first):
        if len(first) >= _KLINE_DUMP_FULL_WIDTH:
            return ColumnMap(
                ts=0, open=1, high=2, low=3, close=4, volume=5, symbol=None, quote_volume=7, trades=8
            ), False
        return KLINE_DUMP, False
    return map_columns(first, path.name), True


def iter_csv(path: Path, has_header: bool) -> Iterator[RowItem]:
    name = path.name
    with _open_text(path) as stream:
        reader = csv.reader(stream)
        expected: int | None = None
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield UnreadableRow(location=f"{name}:{reader.line_num}", reason=f"bad CSV: {exc}")
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line: not a row
            if expected is None:
                expected = len(row)
                if has_header:
                    continue
            location = f"{name}:{reader.line_num}"
            if len(row) != expected:
                yield UnreadableRow(
                    location=location,
                    reason=f"{len(row)} fields where the header has {expected}",
                    raw=",".join(row)[:_RAW_LIMIT],
                )
                continue
            yield location, row


def parquet_columns(path: Path) -> tuple[ColumnMap, bool]:
    """The column map and whether the time column is a native timestamp (converted to ns)."""
    schema = pq.ParquetFile(path).schema_arrow
    columns = map_columns(schema.names, path.name)
    return columns, pa.types.is_timestamp(schema.field(columns.ts).type)


def _ts_as_ns(array: pa.Array[Any]) -> pa.Array[Any]:
    # Native timestamps are cast to int64 nanoseconds; to_pylist() would give datetimes, losing ns.
    return pc.cast(pc.cast(array, pa.timestamp("ns")), pa.int64())


def iter_parquet(path: Path, columns: ColumnMap, chunk_rows: int) -> Iterator[RowItem]:
    """Rows of a Parquet file batch by batch; the location counts data rows from 1."""
    name = path.name
    row_number = 0
    parquet = pq.ParquetFile(path)
    native_ts = pa.types.is_timestamp(parquet.schema_arrow.field(columns.ts).type)
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        lists: list[list[Cell]] = []
        for index in range(batch.num_columns):
            array = batch.column(index)
            if index == columns.ts and native_ts:
                array = _ts_as_ns(array)
            lists.append(array.to_pylist())
        for cells in zip(*lists, strict=True):
            row_number += 1
            yield f"{name}:{row_number}", cells
