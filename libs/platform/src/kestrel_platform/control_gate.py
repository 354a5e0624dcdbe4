"""A process asking the controller whether it may work now: cached briefly, and open when unsure.

Consumers and loops call `held()` before each fetch (a Kafka consumer then pauses its partitions and
keeps polling, so it stays in its group and resumes where it stopped). The board is read at most every
`refresh_s`, so a pause takes effect within that and costs one Redis round trip per interval, not
per message. If the board cannot be read the process keeps working (logged): what it feeds is gated
again downstream (risk reads the board for every batch and refuses orders when it cannot).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from kestrel_platform.control import ALL, RUNNING, Effective, Process
from kestrel_platform.control_store import ControlStore
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.control.gate")


class ProcessGate:
    def __init__(
        self,
        control: ControlStore,
        process: Process,
        *,
        scope: str = ALL,
        refresh_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self._control, self._process, self._scope = control, process, scope
        self._refresh_s, self._clock, self._wall_ns = refresh_s, clock, wall_ns
        self._cached: Effective = RUNNING
        self._read_at: float | None = None
        self._reported: Effective = RUNNING
        self._unreadable = False

    async def effective(self) -> Effective:
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._refresh_s:
            self._read_at = now
            try:
                board = await self._control.board()
                self._cached = board.effective(self._process, self._scope, self._wall_ns())
                self._unreadable = False
            except Exception as exc:
                if not self._unreadable:  # said once per outage, not every interval
                    _log.warning("control.board_unreadable", process=self._process.value, error=repr(exc))
                self._cached, self._unreadable = RUNNING, True
            if self._cached != self._reported:
                _log.warning("control.state", process=self._process.value, state=self._cached.state.value,
                             reason=self._cached.reason)  # fmt: skip
                self._reported = self._cached
        return self._cached

    async def held(self) -> bool:
        return not (await self.effective()).running

    async def wait_running(self, stop: asyncio.Event) -> bool:
        """Until the process may run (True) or `stop` is set (False)."""
        while await self.held():
            if await sleep_or_stop(stop, self._refresh_s):
                return False
        return not stop.is_set()
