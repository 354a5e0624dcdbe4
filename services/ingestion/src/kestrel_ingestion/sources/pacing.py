"""Replay speed: as fast as possible, or N times real time.

At N x, the wall time between two bars is their market-time distance divided by N, measured between
bar close times (the instant a bar becomes known). Waits are anchored on the first bar rather than
chained bar to bar, so scheduling jitter does not accumulate over a long replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from kestrel_ingestion.domain import NS_PER_SECOND

Speed = float | None  # None = "max"

# Even at max speed, hand the loop back this often so health probes and consumers get to run.
YIELD_EVERY = 1024


def parse_speed(text: str | float | None) -> Speed:
    """`"max"` / None -> None; `10`, `"10"`, `"10x"` -> 10.0; ValueError for anything else."""
    if text is None:
        return None
    if isinstance(text, str):
        cleaned = text.strip().lower()
        if cleaned == "max":
            return None
        cleaned = cleaned.removesuffix("x")
        try:
            value = float(cleaned)
        except ValueError:
            raise ValueError(
                f"speed {text!r}: use 'max' or a positive multiple of real time like '10x'"
            ) from None
    else:
        value = float(text)
    if not value > 0:
        raise ValueError(f"speed {text!r} must be positive (or 'max')")
    return value


class Pacer:
    """Call `await pacer.wait(ts_close_ns)` before emitting each bar."""

    def __init__(
        self,
        speed: Speed,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._speed = speed
        self._clock = clock
        self._sleep = sleep
        self._anchor: tuple[int, float] | None = None  # (market ts of the first bar, wall time then)
        self._count = 0

    async def wait(self, ts_close: int) -> None:
        self._count += 1
        if self._speed is None:
            if self._count % YIELD_EVERY == 0:
                await self._sleep(0)
            return
        if self._anchor is None:
            self._anchor = (ts_close, self._clock())
            return
        first_ts, first_wall = self._anchor
        due = first_wall + (ts_close - first_ts) / NS_PER_SECOND / self._speed
        delay = due - self._clock()
        # A bar at or before an earlier one (same time, another symbol, out of order) is due now.
        if delay > 0:
            await self._sleep(delay)
