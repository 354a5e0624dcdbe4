"""An uploaded OHLCV file through the ingestion service's own code: FileSource parses it, BarValidator
checks it and IngestionPipeline stores it in market.bars and publishes it on market.bars, exactly as
`kestrel ingest file` would. What this module adds is only what an HTTP upload needs: parsing off the
event loop, one symbol per upload, and the problems in file order for the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from kestrel_contracts.events import ns_to_datetime
from kestrel_gateway.runtime import GatewayRuntime
from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.pipeline import IngestionPipeline, IngestResult
from kestrel_ingestion.sources.files import FileSource
from kestrel_ingestion.validation import BarValidator, Outcome, ValidationReport, Verdict
from kestrel_ingestion.validation_report import iso

__all__ = ["MAX_PROBLEMS", "SOURCE_NAME", "UploadReport", "ingest_upload", "open_upload", "summary"]

MAX_PROBLEMS = 20
# The source's name: it labels the bars (and so their event ids, with the venue) and the checkpoints.
SOURCE_NAME = "upload"
# Rows parsed per trip to the worker thread: big enough that the hops cost little, small enough that
# the pipeline gets bars to store while the rest of the file is still being parsed.
_CHUNK_ROWS = 2_000


@dataclass
class UploadReport(ValidationReport):
    """The ingestion report, also keeping the first `max_examples` problems of either kind in the order
    the file has them (the base report keeps refused bars and unreadable rows in two lists)."""

    problems: list[dict[str, str]] = field(default_factory=list)

    def add(self, verdict: Verdict) -> None:
        super().add(verdict)
        if verdict.accepted or verdict.outcome is Outcome.NOT_CLOSED:
            return
        bar = verdict.bar
        # The pipeline's bars no longer know their line: the bar's time is what locates them.
        reason = f"{verdict.outcome}: {verdict.reason}" + (f" ({verdict.detail})" if verdict.detail else "")
        self._problem(f"bar {iso(bar.ts_open, bar.timeframe)}", reason)

    def add_unreadable(self, row: UnreadableRow) -> None:
        super().add_unreadable(row)
        self._problem(row.location, row.reason)

    def _problem(self, location: str, reason: str) -> None:
        if len(self.problems) < self.max_examples:
            self.problems.append({"location": location, "reason": reason})


def open_upload(path: Path, *, symbol: str, timeframe: str | None, venue: str) -> FileSource:
    """Blocking (reads the header and, without a timeframe, the first rows): call it in a thread.
    Raises FileFormatError for a file that cannot be replayed at all."""
    return FileSource(path, symbol=symbol, timeframe=timeframe, venue=venue, source=SOURCE_NAME)


def _take(items: Iterator[RawBar | UnreadableRow], n: int) -> list[RawBar | UnreadableRow]:
    return list(islice(items, n))


class _OffLoopSource:
    """FileSource's own parsing, pulled a chunk at a time in a worker thread, so a 50 MiB file never
    holds the event loop (and every other request) for more than a moment."""

    name = SOURCE_NAME

    def __init__(self, file: FileSource, symbol: str) -> None:
        self._file, self._symbol = file, symbol

    async def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        items = self._file.items()
        try:
            while chunk := await asyncio.to_thread(_take, items, _CHUNK_ROWS):
                for item in chunk:
                    yield self._own(item)
        finally:
            # Cancelled while the thread still runs the generator: it closes with the thread's chunk.
            if isinstance(items, Generator):  # closes the file now rather than at garbage collection
                with contextlib.suppress(ValueError):
                    items.close()

    def _own(self, item: RawBar | UnreadableRow) -> RawBar | UnreadableRow:
        # A symbol column in the file would otherwise write bars of other symbols than the one named.
        if isinstance(item, UnreadableRow) or item.symbol == self._symbol:
            return item
        return UnreadableRow(
            location=f"bar {iso(item.ts_open, item.timeframe)}",
            reason=f"symbol {item.symbol!r} in the file is not symbol={self._symbol!r} (one per upload)",
        )


async def ingest_upload(runtime: GatewayRuntime, file: FileSource, symbol: str) -> IngestResult:
    """Validate, store and publish the file's bars; the result's report is an UploadReport."""
    for name in ("market.bars", "audit.logs"):  # the pipeline publishes on both
        await runtime.ensure_channel(name)
    validator = BarValidator(report=UploadReport(max_examples=MAX_PROBLEMS))
    pipeline = IngestionPipeline(
        runtime.bus, PostgresBarStore(runtime.pool), service="gateway", validator=validator
    )
    return await pipeline.run(_OffLoopSource(file, symbol))


def summary(result: IngestResult, file: FileSource, venue: str) -> dict[str, Any]:
    """The answer to an upload: counts, the first problems, and the span of the accepted bars."""
    report = result.report
    problems = report.problems if isinstance(report, UploadReport) else []
    series = report.series.get((file.symbol, file.timeframe))
    first = series.first_ts if series else None
    last = series.last_ts if series else None
    return {
        "symbol": file.symbol,
        "timeframe": file.timeframe,
        "venue": venue,
        "rows_read": report.total + report.unreadable_count,
        "bars_accepted": report.accepted,
        "bars_stored": result.stored,
        "bars_published": result.published,
        "rows_rejected": report.rejected + report.unreadable_count,
        "problems": problems,
        "first_bar": ns_to_datetime(first).isoformat() if first is not None else None,
        "last_bar": ns_to_datetime(last).isoformat() if last is not None else None,
        "gaps": report.gap_count,
    }
