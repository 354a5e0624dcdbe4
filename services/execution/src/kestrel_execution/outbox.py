"""Publishing execution reports from the outbox: after the commit, and again after a crash.

The handler publishes the reports its transaction wrote (inside its consumer span, so the trace of
the order or bar continues to execution.reports) and then stamps them published. A crash between
the commit and the stamp leaves rows unstamped: `flush` publishes them again at startup, a periodic
sweep catches rows older than one interval, and a redelivered order flushes its own at once. A
report may thus reach Kafka twice, always with the same event_id and sequence, never zero times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_execution.repository import ExecutionStore
from kestrel_messaging import MessageBus
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.execution.outbox")


class ReportOutbox:
    def __init__(self, store: ExecutionStore, bus: MessageBus, reports: Channel) -> None:
        self._store, self._bus, self._reports = store, bus, reports

    async def publish(self, reports: Sequence[ExecutionReport]) -> None:
        """Publish committed reports in order (keyed by symbol: the channel's key), one send for all,
        then mark them published."""
        if not reports:
            return
        await self._bus.publish_batch(self._reports, reports)
        await self._store.mark_published(reports)

    async def flush(self, *, client_order_id: str | None = None, older_than_s: float = 0.0) -> int:
        """Publish what a crash left unpublished; returns how many reports were published."""
        total = 0
        while True:
            pending = await self._store.unpublished(
                client_order_id=client_order_id, older_than_s=older_than_s
            )
            if not pending:
                return total
            await self.publish(pending)
            total += len(pending)

    async def sweep(self, stop: asyncio.Event, interval_s: float) -> None:
        """Until `stop`: every interval, publish reports unpublished for longer than one interval."""
        while not await sleep_or_stop(stop, interval_s):
            try:
                count = await self.flush(older_than_s=interval_s)
            except Exception as exc:  # Kafka or PostgreSQL down: the next sweep tries again
                _log.warning("outbox.sweep_failed", error=repr(exc))
                continue
            if count:
                _log.warning("outbox.republished", count=count)
