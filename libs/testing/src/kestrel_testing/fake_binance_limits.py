"""Order-count limits and the scripted faults that hit order placements after they executed."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass

from kestrel_testing.fake_binance_rest import RejectedRequestError

ORDER_COUNT_10S = "X-MBX-ORDER-COUNT-10S"
ORDER_COUNT_1D = "X-MBX-ORDER-COUNT-1D"
BACKEND_TIMEOUT_MSG = (
    "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
)


class OrderCounter:
    """New orders in the last 10 s (sliding) and in the current UTC day, against their limits."""

    def __init__(self, limit_10s: int, limit_1d: int) -> None:
        self.limit_10s = limit_10s
        self.limit_1d = limit_1d
        self._recent: deque[float] = deque()
        self._day = self._today()
        self._day_count = 0

    @staticmethod
    def _today() -> int:
        return math.floor(time.time() / 86400)

    def _roll(self) -> float:
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 10:
            self._recent.popleft()
        if self._today() != self._day:
            self._day, self._day_count = self._today(), 0
        return now

    def headers(self) -> dict[str, str]:
        self._roll()
        return {ORDER_COUNT_10S: str(len(self._recent)), ORDER_COUNT_1D: str(self._day_count)}

    def count(self) -> dict[str, str]:
        """Count one new order and return the headers; 429 -1015 (not counted) past a limit."""
        now = self._roll()
        if len(self._recent) + 1 > self.limit_10s:
            retry = max(1, math.ceil(self._recent[0] + 10 - now))
            raise self._too_many(self.limit_10s, "10 SECOND", retry)
        if self._day_count + 1 > self.limit_1d:
            retry = max(1, math.ceil((self._day + 1) * 86400 - time.time()))
            raise self._too_many(self.limit_1d, "1 DAY", retry)
        self._recent.append(now)
        self._day_count += 1
        return self.headers()

    def _too_many(self, limit: int, per: str, retry_after_s: int) -> RejectedRequestError:
        msg = f"Too many new orders; current limit is {limit} orders per {per}."
        return RejectedRequestError(429, -1015, msg, retry_after_s, headers=self.headers())


@dataclass(slots=True)
class _AfterExecution:
    remaining: int
    delay_s: float | None  # hold the response this long (a client timeout) ...
    status: int | None  # ... or answer this status with -1007 instead


class PlacementFaults:
    """Faults for orders the engine has executed: the client learns nothing reliable about them."""

    def __init__(self) -> None:
        self._queue: list[_AfterExecution] = []
        self._closing = asyncio.Event()

    def timeout_next(self, count: int, delay_s: float) -> None:
        self._queue.append(_AfterExecution(count, delay_s, None))

    def fail_next(self, count: int, status: int) -> None:
        self._queue.append(_AfterExecution(count, None, status))

    def release(self) -> None:
        """Let held responses go (server shutdown), so closing does not wait out their delay."""
        self._closing.set()

    async def after_execution(self) -> None:
        """Apply the next scripted fault, if any, to an order that was just executed."""
        if not self._queue:
            return
        fault = self._queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._queue.pop(0)
        if fault.delay_s is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.delay_s)
            return
        assert fault.status is not None
        raise RejectedRequestError(fault.status, -1007, BACKEND_TIMEOUT_MSG)
