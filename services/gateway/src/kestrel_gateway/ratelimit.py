"""Sliding-window rate limit arithmetic (the "sliding window counter"). Pure: no I/O.

Two fixed windows are counted (the current one and the one before); the estimate of requests in
the last `window_s` seconds weights the previous window by the share of it still inside the sliding
window. Unlike a plain fixed window this allows no double burst across a window boundary, and unlike
a log of timestamps it costs two integers per key. The Redis adapter keeps the counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["RateDecision", "decide", "window_index"]


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    remaining: int
    # Seconds until a request would be allowed again (0 when allowed), rounded up, at least 1 if denied.
    retry_after_s: int


def window_index(now_s: float, window_s: int) -> int:
    return math.floor(now_s / window_s)


def _estimate(previous: int, current: int, elapsed_fraction: float) -> float:
    return previous * (1.0 - elapsed_fraction) + current


def decide(now_s: float, window_s: int, limit: int, previous: int, current: int) -> RateDecision:
    """May one more request go through? `previous`/`current`: requests already counted in the
    previous and the current fixed window (the new request not included)."""
    if limit < 1 or window_s < 1:
        raise ValueError("limit and window_s must be >= 1")
    elapsed = (now_s % window_s) / window_s
    used = _estimate(previous, current, elapsed)
    if used + 1 <= limit:
        return RateDecision(allowed=True, remaining=max(0, math.floor(limit - used - 1)), retry_after_s=0)
    wait_s = _wait_s(elapsed, window_s, limit, previous, current)
    return RateDecision(allowed=False, remaining=0, retry_after_s=max(1, math.ceil(wait_s)))


def _wait_s(elapsed: float, window_s: int, limit: int, previous: int, current: int) -> float:
    """Seconds until previous*(1-f) + current + 1 <= limit, assuming no other request meanwhile."""
    if current + 1 <= limit and previous > 0:
        # Still this window: wait until enough of the previous window has slid out.
        needed = 1.0 - (limit - current - 1) / previous
        return (needed - elapsed) * window_s
    # Next window (here current >= limit >= 1): the current count becomes the previous one and
    # slides out as that window goes by.
    return (1.0 - elapsed) * window_s + (1.0 - (limit - 1) / current) * window_s
