"""Session calendars: which bar slots a market is open for, so that closures are not counted as gaps.

- `24/7`     every slot (crypto; the default for intraday bars).
- `weekdays` slots opening Monday-Friday UTC (the default for daily bars: weekends are not gaps).
- `nyse`     weekdays minus NYSE full-day closures (holiday rules in force since 1998, plus the
             unscheduled closures since 2001). It knows nothing about intraday hours: use it for daily bars.
- `fx`       closed from Friday 21:00 to Sunday 22:00 UTC: the spot FX weekend, widened to cover both the
             summer (21:00) and winter (22:00) hand-over times.
Pure functions over integer nanoseconds; numpy only to count long stretches of slots quickly.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

NS_PER_DAY: Final = 86_400 * 10**9
_NS_PER_HOUR: Final = 3_600 * 10**9
_FX_CLOSE: Final = (4 * 24 + 21) * _NS_PER_HOUR  # Friday 21:00, counted from Monday 00:00
_FX_OPEN: Final = (6 * 24 + 22) * _NS_PER_HOUR  # Sunday 22:00
_EPOCH_WEEKDAY: Final = 3  # 1970-01-01 was a Thursday (Monday = 0)
_SLOTS_PER_PASS: Final = 1 << 20
CALENDARS: Final = ("24/7", "weekdays", "nyse", "fx")
_SPECIAL_CLOSURES: Final = (
    "2001-09-11",
    "2001-09-12",
    "2001-09-13",
    "2001-09-14",
    "2004-06-11",
    "2007-01-02",
    "2012-10-29",
    "2012-10-30",
    "2018-12-05",
    "2025-01-09",
)

Int64s = npt.NDArray[np.int64]


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * el) // 433
    month = (h + el - 7 * m + 90) // 25
    return date(year, month, (h + el - 7 * m + 33 * month + 19) % 32)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday = 0) of the month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Saturday holidays close the Friday before, Sunday ones the Monday after."""
    return {5: day - timedelta(days=1), 6: day + timedelta(days=1)}.get(day.weekday(), day)


@lru_cache(maxsize=256)
def nyse_holidays(year: int) -> frozenset[date]:
    new_year = date(year, 1, 1)
    days = [
        # New Year's Day on a Saturday is not made up on the Friday before (NYSE rule).
        None if new_year.weekday() == 5 else _observed(new_year),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(date(year, 6, 19)) if year >= 2022 else None,  # Juneteenth
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    ]
    special = (date.fromisoformat(text) for text in _SPECIAL_CLOSURES)
    return frozenset(d for d in days if d is not None) | {d for d in special if d.year == year}


def _open_mask(calendar: str, slots: Int64s) -> npt.NDArray[np.bool_]:
    days = slots // NS_PER_DAY
    weekday = (days + _EPOCH_WEEKDAY) % 7
    if calendar == "weekdays":
        return weekday < 5
    if calendar == "fx":
        in_week = weekday * NS_PER_DAY + slots % NS_PER_DAY
        return (in_week < _FX_CLOSE) | (in_week >= _FX_OPEN)
    # nyse
    epoch = date(1970, 1, 1)
    years = range(
        (epoch + timedelta(days=int(days[0]))).year, (epoch + timedelta(days=int(days[-1]))).year + 1
    )
    closed = [(d - epoch).days for year in years for d in nyse_holidays(year)]
    return (weekday < 5) & ~np.isin(days, np.array(closed, dtype=np.int64))


def sessions_between(calendar: str, after_ns: int, before_ns: int, step_ns: int) -> int:
    """How many bar slots `after + k*step` (k >= 1) strictly before `before` the market was open for."""
    if calendar not in CALENDARS:
        raise ValueError(f"unknown calendar {calendar!r}; known: {', '.join(CALENDARS)}")
    slots = -(-(before_ns - after_ns) // step_ns) - 1  # ceil division, minus the bar at `before`
    if slots <= 0 or calendar == "24/7":
        return max(slots, 0)
    count = 0
    for first in range(1, slots + 1, _SLOTS_PER_PASS):
        ks = np.arange(first, min(first + _SLOTS_PER_PASS, slots + 1), dtype=np.int64)
        count += int(np.count_nonzero(_open_mask(calendar, after_ns + ks * step_ns)))
    return count
