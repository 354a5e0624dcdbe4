"""source -> validation -> store -> Kafka `market.bars`, in time-complete batches.

Order of effects per batch: (1) upsert the bars into the store (idempotent), (2) publish them on
`market.bars` keyed by symbol, each bar starting its own trace, (3) record how far the source has
published. A crash between any two steps repeats work on the next run but loses nothing: re-storing
is a no-op and a re-published bar carries the same event id. Storing before publishing means that
when a consumer sees a bar at time t, every bar up to t of that batch (the reference symbol's too)
is already in the store. A batch is cut only between two timestamps, never inside one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from kestrel_contracts.events import new_event_id, now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AuditEvent, AuditSeverity
from kestrel_ingestion import metrics
from kestrel_ingestion.adapters.bar_store import BarStore, SeriesKey
from kestrel_ingestion.convert import to_event
from kestrel_ingestion.domain import BarSource, RawBar, UnreadableRow
from kestrel_ingestion.validation import BarValidator, Gap, ValidationReport
from kestrel_messaging import MessageBus
from kestrel_platform.control_gate import ProcessGate
from kestrel_platform.logging import get_logger

_log = get_logger(__name__)
_END = object()
_T = TypeVar("_T")


@dataclass
class IngestResult:
    report: ValidationReport
    stored: int = 0
    published: int = 0
    batches: int = 0
    seconds: float = 0.0
    audit_events: int = 0
    last_published: dict[SeriesKey, int] = field(default_factory=dict)


class IngestionPipeline:
    def __init__(
        self,
        bus: MessageBus,
        store: BarStore,
        *,
        service: str = "ingestion",
        batch_size: int = 2000,
        max_batch_delay_s: float = 0.25,
        validator: BarValidator | None = None,
        on_progress: Callable[[int], None] | None = None,
        gate: ProcessGate | None = None,
    ) -> None:
        self._bus, self._store, self._service = bus, store, service
        self._gate, self._stop = gate, asyncio.Event()
        self._batch_size, self._max_delay = batch_size, max_batch_delay_s
        self._validator = validator or BarValidator()
        self._on_progress = on_progress
        self._bars, self._audit = channel("market.bars"), channel("audit.logs")

    async def run(self, source: BarSource, stop: asyncio.Event | None = None) -> IngestResult:
        """Ingest what `source` yields until it ends or `stop` is set; return counts and the report.

        On `stop` the bars already accepted are stored, published and checkpointed before returning.
        """
        result = IngestResult(report=self._validator.report)
        self._stop = stop or asyncio.Event()
        started = time.perf_counter()
        batch: list[RawBar] = []
        async for item in _with_idle_ticks(source.bars(), self._max_delay):
            if stop is not None and stop.is_set():
                break
            if item is None:  # the source went quiet: do not sit on a partial batch
                await self._flush(source.name, batch, result)
                continue
            if isinstance(item, UnreadableRow):
                metrics.UNREADABLE.labels(source.name).inc()
                self._validator.record_unreadable(item)
                await self._audit_unreadable(source.name, item, result)
                continue
            if len(batch) >= self._batch_size and item.ts_open != batch[-1].ts_open:
                await self._flush(source.name, batch, result)
            verdict = self._validator.check(item)
            metrics.BARS.labels(source.name, verdict.outcome).inc()
            if verdict.gap is not None:
                await self._audit_gap(source.name, verdict.gap, result)
            if verdict.accepted:
                batch.append(item)
                if self._on_progress is not None:
                    self._on_progress(1)
        await self._flush(source.name, batch, result)
        result.seconds = time.perf_counter() - started
        return result

    async def _flush(self, source: str, batch: list[RawBar], result: IngestResult) -> None:
        if not batch:
            return
        if self._gate is not None:
            # Paused by the controller: hold the batch (the source waits behind it) until resumed;
            # on SIGTERM meanwhile the accepted bars are still stored and published, never lost.
            await self._gate.wait_running(self._stop)
        started = time.perf_counter()
        result.stored += await self._store.write(batch)
        events = [to_event(bar, self._validator.flags_of(bar)) for bar in batch]
        await self._bus.publish_batch(self._bars, events, trace_per_message=True)
        last: dict[SeriesKey, int] = {}
        for bar in batch:
            key = (bar.symbol, bar.timeframe)
            last[key] = max(bar.ts_open, last.get(key, bar.ts_open))
        await self._store.mark_published(source, last)
        result.last_published.update(last)
        result.published += len(batch)
        result.batches += 1
        metrics.FLUSH_SECONDS.labels(source).observe(time.perf_counter() - started)
        batch.clear()

    async def _audit_gap(self, source: str, gap: Gap, result: IngestResult) -> None:
        metrics.GAPS.labels(gap.symbol, gap.timeframe).inc()
        metrics.MISSING_BARS.labels(gap.symbol, gap.timeframe).inc(gap.missing)
        _log.warning(
            "gap in market data",
            source=source,
            symbol=gap.symbol,
            timeframe=gap.timeframe,
            missing=gap.missing,
            from_ts=gap.from_ts,
            to_ts=gap.to_ts,
        )
        await self._publish_audit(
            result,
            AuditEvent(
                action="market_data.gap",
                severity=AuditSeverity.AUDIT_SEVERITY_WARNING,
                symbol=gap.symbol,
                subject_type="series",
                subject_id=f"{gap.symbol}/{gap.timeframe}",
                message=f"{gap.missing} bar(s) missing in {gap.symbol} {gap.timeframe} from {source}; "
                "not filled",
                attributes={
                    "source": source,
                    "from_ts": str(gap.from_ts),
                    "to_ts": str(gap.to_ts),
                    "missing": str(gap.missing),
                },
                ts_event=gap.to_ts,
            ),
        )

    async def _audit_unreadable(self, source: str, row: UnreadableRow, result: IngestResult) -> None:
        await self._publish_audit(
            result,
            AuditEvent(
                action="market_data.unreadable_row",
                severity=AuditSeverity.AUDIT_SEVERITY_ERROR,
                subject_type="row",
                subject_id=row.location,
                message=f"{row.location}: {row.reason}",
                attributes={"source": source, "raw": row.raw[:500]},
                ts_event=now_ns(),
            ),
        )

    async def _publish_audit(self, result: IngestResult, event: AuditEvent) -> None:
        event.event_id, event.ts_init, event.service, event.actor = (
            new_event_id(),
            now_ns(),
            self._service,
            "system",
        )
        await self._bus.publish(self._audit, event)
        result.audit_events += 1


async def _with_idle_ticks(items: AsyncIterator[_T], idle_s: float) -> AsyncIterator[_T | None]:
    """Yield the source's items, and None whenever it has been quiet for `idle_s` (live feeds)."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=10_000)

    async def pump() -> None:
        try:
            async for item in items:
                await queue.put(item)
        finally:
            await queue.put(_END)

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), idle_s)
            except TimeoutError:
                yield None
                continue
            if item is _END:
                break
            yield item  # type: ignore[misc]
        await task  # re-raise what the source raised
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
