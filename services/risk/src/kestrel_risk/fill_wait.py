"""Holding signals until execution has answered the orders of earlier bars.

An exact-mode backtest fills bar t's order at bar t+1's open and applies that fill BEFORE deciding
on bar t+1's close. Live, the fill comes on execution.reports and bar t+1's signal on
trading.signals, two consumers of this process, so a signal could be sized before the fill is
known. A batch of signals therefore waits until no order decided on a bar before its first signal is
still working (`WorkingOrders.due_before`), woken by every report applied.

One wait per batch is the per-signal wait: the orders a later signal of the batch may await were
decided before the first signal, since the batch's own orders are published only once it is
decided (execution cannot have answered them). Waiting before the batch's snapshot keeps the fills
that arrive meanwhile out of what a failed batch undoes.

On timeout (execution down, a report lost) the batch is decided anyway, with a warning and a count,
and those orders are no longer awaited, so a lost report delays one batch, not every later one. On
stop it is decided at once: shutdown stays prompt and the fetch is committed as usual.
"""

from __future__ import annotations

import asyncio
import contextlib

from kestrel_platform.logging import get_logger
from kestrel_risk import metrics
from kestrel_riskengine.engine import RiskEngine

_log = get_logger("kestrel.risk.fill_wait")


class FillWait:
    def __init__(
        self,
        engine: RiskEngine,
        timeout_s: float,
        stop: asyncio.Event | None = None,
        *,
        poll_s: float = 0.05,
    ) -> None:
        self._engine, self._timeout_s, self._poll_s = engine, timeout_s, poll_s
        self._stop = stop if stop is not None else asyncio.Event()
        self._applied = asyncio.Event()
        self._given_up_before = 0  # orders decided before this were waited for in vain once

    def report_applied(self) -> None:
        """The reports consumer applied a report: the waiting batch looks again."""
        self._applied.set()

    async def until_answered(self, ts_ns: int) -> None:
        """Return once no order decided before `ts_ns` is working, or on timeout or stop."""
        if self._timeout_s <= 0:
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        while self._due(ts_ns):
            remaining = started + self._timeout_s - loop.time()
            if self._stop.is_set() or remaining <= 0:
                self._give_up(ts_ns, "stopping" if self._stop.is_set() else "timeout", loop.time() - started)
                return
            self._applied.clear()  # no await since _due: no report can slip in between
            with contextlib.suppress(TimeoutError):
                # Reports wake it at once; the poll only bounds how late a stop is noticed.
                await asyncio.wait_for(self._applied.wait(), min(remaining, self._poll_s))

    def _due(self, ts_ns: int) -> bool:
        # The book's working set is replaced when a failed batch is undone: look it up every time.
        return self._engine.book.working.due_before(ts_ns, since_ns=self._given_up_before)

    def _give_up(self, ts_ns: int, reason: str, waited_s: float) -> None:
        self._given_up_before = max(self._given_up_before, ts_ns)
        metrics.DECIDED_WITH_DUE_ORDERS.labels(reason).inc()
        _log.warning(
            "signal.decided_with_due_orders",
            ts_event=ts_ns,
            reason=reason,
            waited_s=round(waited_s, 3),
            working=len(self._engine.book.working),
        )
