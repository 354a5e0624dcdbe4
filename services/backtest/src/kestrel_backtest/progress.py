"""Progress of a running job, from the worker thread to ``backtest.runs`` and ``backtest.progress``.

The engine reports from the thread it runs in; each report is handed to the event loop, at most one
every ``min_interval_s`` (and always on a change of stage), so a fast engine does not flood Kafka.
Progress is informational: losing one on a crash costs nothing, the result is the final word.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg

from kestrel_contracts.events import new_event_id
from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.backtest_result_pb2 import BacktestProgress
from kestrel_messaging import MessageBus
from kestrel_platform.logging import get_logger
from kestrel_store.backtest_runs import record_progress

_log = get_logger("kestrel.backtest.progress")


class ProgressRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: MessageBus,
        progress: Channel,
        job_id: uuid.UUID,
        *,
        min_interval_s: float = 0.5,
    ) -> None:
        self._pool, self._bus, self._channel, self._job_id = pool, bus, progress, job_id
        self._loop = asyncio.get_running_loop()
        self._interval_ns = int(min_interval_s * 1e9)
        self._last_ns, self._last_stage = 0, ""
        self._pending: set[asyncio.Task[None]] = set()

    def report(self, fraction: float, bars: int, stage: str) -> None:
        """Callable from any thread."""
        now = time.monotonic_ns()
        if stage == self._last_stage and now - self._last_ns < self._interval_ns:
            return
        self._last_ns, self._last_stage = now, stage
        message = BacktestProgress(
            event_id=new_event_id(),
            ts_event=time.time_ns(),
            ts_init=time.time_ns(),
            job_id=str(self._job_id),
            fraction=min(max(fraction, 0.0), 1.0),
            bars_processed=bars,
            stage=stage,
        )
        self._loop.call_soon_threadsafe(self._start, message)

    def _start(self, message: BacktestProgress) -> None:  # on the loop's thread
        task = self._loop.create_task(self._send(message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, message: BacktestProgress) -> None:
        try:
            await record_progress(self._pool, self._job_id, message.fraction, message.bars_processed)
            await self._bus.publish(self._channel, message, key=message.job_id)
        except Exception as exc:  # progress is best effort; the run goes on
            _log.warning("progress.lost", job_id=message.job_id, error=repr(exc))

    async def drain(self) -> None:
        """Wait for the reports still in flight (before the final state is written)."""
        await asyncio.sleep(0)  # let reports handed over just before start their tasks
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
