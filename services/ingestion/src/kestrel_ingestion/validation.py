"""Bar validation: one bar at a time, per (symbol, timeframe) series, no I/O.

Every bar gets exactly one Outcome. Only ACCEPTED bars may be published; an accepted bar may carry flags.
- NOT_CLOSED: a still-forming bar is held back; it never counts as seen.
- INVALID: low <= open, close <= high and low <= high must hold, prices must be > 0 and volume >= 0.
- MISALIGNED: an intraday bar must open on its timeframe's grid (multiples of the timeframe since the
  epoch, as exchanges align them); daily and weekly bars are not checked, their session start varies.
- DUPLICATE / CONFLICTING_DUPLICATE: the ts_open of a bar already accepted (within the last
  `duplicate_window` bars of the series), with the same values or with different ones.
- OUT_OF_ORDER: earlier than the last accepted bar and not a duplicate. Rejected, not inserted late:
  downstream state (indicators) has moved past it; the hole it would fill stays reported as a gap.
- Gap: a bar opening more than one timeframe after the last accepted one, when at least one slot in
  between was a session of the series' calendar (see calendars.py; default 24/7 intraday and weekdays
  for "1d", so weekends are never gaps and an equity's holidays are not gaps under "nyse"). The gap is
  recorded with its count of missing bars, and the bar after it is accepted and flagged AFTER_GAP.
  Nothing is ever filled in: Kestrel never invents prices.
- OUTLIER: |log return - median| > k x 1.4826 x MAD of the last `outlier_window` returns (scaled by
  sqrt of the bars elapsed, for a return that spans a gap). The bar is flagged and still ACCEPTED:
  markets really do jump (crashes, news, squeezes); dropping such bars would falsify history and make
  volatility and risk look smaller than they were. Consumers that distrust them can read the flag.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from kestrel_ingestion.calendars import CALENDARS, NS_PER_DAY, sessions_between
from kestrel_ingestion.domain import RawBar, UnreadableRow, timeframe_ns
from kestrel_ingestion.validation_report import BarFlag, Gap, Outcome, ValidationReport, Verdict, iso

_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution x this = its standard deviation
_RESCALE_EVERY = 16
_FIELDS = ("open", "high", "low", "close", "volume")
Values = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]

__all__ = ["BarFlag", "BarValidator", "Gap", "Outcome", "ValidationReport", "Verdict", "check_ohlc"]


def check_ohlc(bar: RawBar) -> list[tuple[str, str]]:
    """Every (reason, detail) that makes the bar's numbers inconsistent; empty when they are fine."""
    o, h, low, c, v = bar.open, bar.high, bar.low, bar.close, bar.volume
    if not (o.is_finite() and h.is_finite() and low.is_finite() and c.is_finite() and v.is_finite()):
        return [("not finite", f"open {o} high {h} low {low} close {c} volume {v}")]
    if low <= o <= h and low <= c <= h and low > 0 and v >= 0:
        return []  # the common case, decided without building any message
    checks = (
        (min(o, h, low, c) <= 0, "non-positive price", f"open {o} high {h} low {low} close {c}"),
        (low > h, "low > high", f"low {low} > high {h}"),
        (low > o, "low > open", f"low {low} > open {o}"),
        (low > c, "low > close", f"low {low} > close {c}"),
        (h < o, "high < open", f"high {h} < open {o}"),
        (h < c, "high < close", f"high {h} < close {c}"),
        (v < 0, "negative volume", f"volume {v} < 0"),
    )
    return [(reason, detail) for failed, reason, detail in checks if failed]


@dataclass(slots=True)
class _Series:
    step: int
    calendar: str
    returns: deque[float]
    scale: tuple[float, float] | None = None  # (median, MAD-sigma) of `returns`, refreshed periodically
    since_scale: int = 0
    last_ts: int | None = None
    last_close: Decimal | None = None
    # ts_open -> (values, flags) of the last accepted bars, oldest first (dicts keep insertion order).
    recent: dict[int, tuple[Values, frozenset[BarFlag]]] = field(default_factory=dict)


class BarValidator:
    """Classifies bars and keeps `report` up to date. One instance per stream of bars."""

    def __init__(
        self,
        *,
        calendars: Mapping[str, str] | None = None,
        daily_calendar: str = "weekdays",
        outlier_k: float = 8.0,
        outlier_window: int = 100,
        outlier_min_history: int = 20,
        duplicate_window: int = 4_096,
        report: ValidationReport | None = None,
    ) -> None:
        """`calendars` maps a symbol to its session calendar; others use 24/7, or `daily_calendar` for 1d."""
        self._calendars = dict(calendars or {})
        for name in (*self._calendars.values(), daily_calendar):
            if name not in CALENDARS:
                raise ValueError(f"unknown calendar {name!r}; known: {', '.join(CALENDARS)}")
        self._daily_calendar = daily_calendar
        self._k = outlier_k
        self._window = outlier_window
        self._min_history = outlier_min_history
        self._duplicate_window = duplicate_window
        self._series: dict[tuple[str, str], _Series] = {}
        self.report = report if report is not None else ValidationReport()

    def feed(self, item: RawBar | UnreadableRow) -> Verdict | None:
        """What a source yields: bars are checked, unreadable rows go into the report."""
        if isinstance(item, UnreadableRow):
            self.record_unreadable(item)
            return None
        return self.check(item)

    def check(self, bar: RawBar) -> Verdict:
        """Classify one bar, update the series state and the report."""
        verdict = self._classify(bar)
        self.report.add(verdict)
        return verdict

    def record_unreadable(self, row: UnreadableRow) -> None:
        self.report.add_unreadable(row)

    def flags_of(self, bar: RawBar) -> frozenset[BarFlag]:
        """The flags given to `bar` when it was accepted (among the last `duplicate_window` of its series)."""
        series = self._series.get((bar.symbol, bar.timeframe))
        seen = None if series is None else series.recent.get(bar.ts_open)
        return frozenset() if seen is None else seen[1]

    def _series_of(self, bar: RawBar, step: int) -> _Series:
        key = (bar.symbol, bar.timeframe)
        series = self._series.get(key)
        if series is None:
            default = self._daily_calendar if bar.timeframe == "1d" else "24/7"
            calendar = self._calendars.get(bar.symbol, default)
            series = self._series[key] = _Series(
                step=step, calendar=calendar, returns=deque(maxlen=self._window)
            )
        return series

    def _classify(self, bar: RawBar) -> Verdict:
        if not bar.closed:
            return Verdict(bar, Outcome.NOT_CLOSED, "not closed")
        try:
            step = timeframe_ns(bar.timeframe)
        except ValueError as exc:
            return Verdict(bar, Outcome.INVALID, "unknown timeframe", str(exc))
        problems = check_ohlc(bar)
        if problems:
            return Verdict(bar, Outcome.INVALID, problems[0][0], "; ".join(detail for _, detail in problems))
        if step < NS_PER_DAY and bar.ts_open % step:
            return Verdict(
                bar,
                Outcome.MISALIGNED,
                f"not on the {bar.timeframe} grid",
                f"opens {(bar.ts_open % step) / 1e9:g}s after a {bar.timeframe} boundary",
            )
        series = self._series_of(bar, step)
        values: Values = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        seen_before = series.recent.get(bar.ts_open)
        if seen_before is not None:
            seen = seen_before[0]
            if seen == values:
                return Verdict(bar, Outcome.DUPLICATE, "same values")
            differs = [
                f"{name} {new} vs {old} accepted"
                for name, new, old in zip(_FIELDS, values, seen, strict=True)
                if new != old
            ]
            return Verdict(bar, Outcome.CONFLICTING_DUPLICATE, "values differ", "; ".join(differs))
        if series.last_ts is not None and bar.ts_open < series.last_ts:
            return Verdict(
                bar,
                Outcome.OUT_OF_ORDER,
                "earlier than last accepted",
                f"after {iso(series.last_ts, bar.timeframe)} was accepted",
            )
        return self._accept(bar, series, values)

    def _accept(self, bar: RawBar, series: _Series, values: Values) -> Verdict:
        flags: set[BarFlag] = set()
        gap = None
        elapsed = 1
        if series.last_ts is not None and bar.ts_open > series.last_ts + series.step:
            missing = sessions_between(series.calendar, series.last_ts, bar.ts_open, series.step)
            if missing:
                gap = Gap(bar.symbol, bar.timeframe, series.last_ts, bar.ts_open, missing)
                flags.add(BarFlag.AFTER_GAP)
                elapsed += missing
        if series.last_close is not None and self._is_outlier(series, bar.close, elapsed):
            flags.add(BarFlag.OUTLIER)
        series.last_ts = bar.ts_open
        series.last_close = bar.close
        marks = frozenset(flags)
        series.recent[bar.ts_open] = (values, marks)
        if len(series.recent) > self._duplicate_window:
            del series.recent[next(iter(series.recent))]
        return Verdict(bar, Outcome.ACCEPTED, flags=marks, gap=gap)

    def _is_outlier(self, series: _Series, close: Decimal, elapsed: int) -> bool:
        assert series.last_close is not None
        # Floats are fine here: this only decides a flag, it never changes a price.
        r = math.log(float(close) / float(series.last_close))
        history = series.returns
        outlier = False
        if len(history) >= self._min_history:
            # The robust scale moves slowly; recomputing it every few bars instead of every bar keeps
            # validation cheap (two medians per bar were most of its cost) without changing what it flags.
            if series.scale is None or series.since_scale >= _RESCALE_EVERY:
                center = statistics.median(history)
                series.scale = (center, _MAD_TO_SIGMA * statistics.median(abs(x - center) for x in history))
                series.since_scale = 0
            center, scale = series.scale
            # A flat history (MAD 0) gives no scale to judge by: nothing is flagged against it.
            outlier = scale > 0 and abs(r - center) > self._k * scale * math.sqrt(elapsed)
        series.since_scale += 1
        history.append(r / math.sqrt(elapsed))
        return outlier
