"""BarValidator: one outcome per bar, gaps reported and never filled, outliers flagged, a clear report."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kestrel_contracts.v1 import bar_pb2
from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.validation import BarFlag, BarValidator, Outcome, ValidationReport

T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z, a Monday
MINUTE = 60 * 10**9
DAY = 86_400 * 10**9


def bar(
    k: int = 0,
    *,
    symbol: str = "BTCUSDT",
    timeframe: str = "1m",
    step: int = MINUTE,
    close: str = "100.5",
    **changes: object,
) -> RawBar:
    base = RawBar(
        symbol=symbol,
        timeframe=timeframe,
        ts_open=T0 + k * step,
        open=Decimal(100),
        high=Decimal(101),
        low=Decimal(99),
        close=Decimal(close),
        volume=Decimal(5),
        source="test",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def day(iso_date: str, symbol: str = "SPX") -> RawBar:
    ts = int(datetime.fromisoformat(iso_date).replace(tzinfo=UTC).timestamp()) * 10**9
    return bar(symbol=symbol, timeframe="1d", ts_open=ts)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"low": Decimal("100.6")}, "low > open"),
        ({"high": Decimal("100.2")}, "high < close"),
        ({"low": Decimal(102), "high": Decimal(101)}, "low > high"),
        ({"volume": Decimal(-1)}, "negative volume"),
        ({"low": Decimal(0)}, "non-positive price"),
        ({"close": Decimal("NaN")}, "not finite"),
        ({"timeframe": "7m"}, "unknown timeframe"),
    ],
)
def test_inconsistent_bars_are_rejected_with_a_reason(changes: dict[str, Any], reason: str) -> None:
    verdict = BarValidator().check(replace(bar(), **changes))
    assert (verdict.outcome, verdict.reason, verdict.accepted) == (Outcome.INVALID, reason, False)
    assert verdict.detail


def test_duplicates_identical_and_conflicting() -> None:
    validator = BarValidator()
    assert validator.check(bar(0)).accepted
    assert validator.check(bar(1)).accepted
    same = validator.check(bar(0))
    assert (same.outcome, same.reason) == (Outcome.DUPLICATE, "same values")
    assert validator.check(bar(0, open=Decimal("100.00"))).outcome is Outcome.DUPLICATE  # equal as numbers
    conflict = validator.check(bar(1, close="100.7"))
    assert conflict.outcome is Outcome.CONFLICTING_DUPLICATE
    assert conflict.detail == "close 100.7 vs 100.5 accepted"
    assert validator.report.reasons[(Outcome.CONFLICTING_DUPLICATE, "values differ")] == 1


def test_out_of_order_is_rejected_and_its_hole_stays_a_gap() -> None:
    validator = BarValidator()
    validator.check(bar(0))
    after_gap = validator.check(bar(4))
    late = validator.check(bar(2))
    assert after_gap.accepted and after_gap.flags == {BarFlag.AFTER_GAP}
    assert after_gap.gap is not None and after_gap.gap.missing == 3
    assert (late.outcome, late.detail) == (Outcome.OUT_OF_ORDER, "after 2024-01-01T00:04:00Z was accepted")
    assert validator.report.gap_count == 1 and validator.report.missing_bars == 3


def test_series_are_independent() -> None:
    validator = BarValidator()
    assert validator.check(bar(5, symbol="A")).accepted
    assert validator.check(bar(0, symbol="B")).accepted  # earlier, but another series
    assert validator.check(bar(0, symbol="A", timeframe="5m", step=5 * MINUTE)).accepted


def test_misaligned_intraday_rejected_daily_not_checked() -> None:
    validator = BarValidator()
    verdict = validator.check(bar(ts_open=T0 + 30 * 10**9))
    assert (verdict.outcome, verdict.reason) == (Outcome.MISALIGNED, "not on the 1m grid")
    assert verdict.detail == "opens 30s after a 1m boundary"
    assert validator.check(bar(timeframe="1d", ts_open=T0 + 14 * 3600 * 10**9)).accepted


def test_not_closed_bars_are_held_back_and_not_seen() -> None:
    validator = BarValidator()
    forming = validator.check(bar(0, closed=False))
    assert forming.outcome is Outcome.NOT_CLOSED and not forming.accepted
    assert validator.check(bar(0)).accepted  # the closed version is the first one seen
    assert validator.report.rejected == 0 and validator.report.outcomes[Outcome.NOT_CLOSED] == 1


def test_gaps_by_calendar() -> None:
    validator = BarValidator()  # 1d defaults to weekdays: weekends are not gaps
    for iso_date in ("2024-01-05", "2024-01-08"):  # Friday -> Monday
        assert validator.check(day(iso_date)).gap is None
    gap = validator.check(day("2024-01-11")).gap  # Monday -> Thursday: Tue and Wed missing
    assert gap is not None and (gap.missing, gap.from_ts, gap.to_ts) == (
        2,
        day("2024-01-08").ts_open,
        day("2024-01-11").ts_open,
    )
    nyse = BarValidator(calendars={"SPX": "nyse"})
    # Good Friday 2024 (Mar 29) and the 2018-12-05 national day of mourning are no sessions.
    for pair in (("2024-03-28", "2024-04-01"), ("2018-12-04", "2018-12-06")):
        for iso_date in pair:
            assert nyse.check(day(iso_date)).gap is None, pair
    crypto_daily = BarValidator(daily_calendar="24/7")
    crypto_daily.check(day("2024-01-05", "BTCUSDT"))
    weekend = crypto_daily.check(day("2024-01-08", "BTCUSDT")).gap
    assert weekend is not None and weekend.missing == 2
    with pytest.raises(ValueError, match="unknown calendar 'lse'"):
        BarValidator(calendars={"VOD": "lse"})


def test_outliers_flagged_and_still_accepted() -> None:
    validator = BarValidator(outlier_min_history=20)
    closes = [100 + (0.1 if k % 2 else -0.1) + 0.01 * k for k in range(40)]
    for k, close in enumerate(closes):
        assert not validator.check(bar(k, close=f"{close:.2f}", high=Decimal(200), low=Decimal(1))).flags
    jump = validator.check(bar(40, close="120", high=Decimal(200), low=Decimal(1)))
    assert jump.accepted and jump.flags == {BarFlag.OUTLIER}
    flat = BarValidator(outlier_min_history=5)
    for k in range(10):
        flat.check(bar(k, close="100.5"))
    moved = flat.check(bar(10, close="100.9"))
    assert moved.accepted and not moved.flags  # a flat history (MAD 0) gives no scale to judge by


def test_flags_of_and_proto_numbers() -> None:
    validator = BarValidator()
    validator.check(bar(0))
    validator.check(bar(3))
    assert validator.flags_of(bar(3)) == {BarFlag.AFTER_GAP}
    assert validator.flags_of(bar(0)) == frozenset() and validator.flags_of(bar(9)) == frozenset()
    assert int(BarFlag.OUTLIER) == int(bar_pb2.BAR_FLAG_OUTLIER)
    assert int(BarFlag.AFTER_GAP) == int(bar_pb2.BAR_FLAG_AFTER_GAP)


def test_duplicate_older_than_the_window_is_still_rejected() -> None:
    validator = BarValidator(duplicate_window=3)
    for k in range(5):
        validator.check(bar(k))
    assert validator.check(bar(4)).outcome is Outcome.DUPLICATE
    assert validator.check(bar(0)).outcome is Outcome.OUT_OF_ORDER


def test_report_bounds_examples_and_renders_everything() -> None:
    validator = BarValidator(report=ValidationReport(max_examples=2))
    validator.feed(UnreadableRow(location="x.csv:3", reason="close is empty"))
    for k in range(5):
        validator.feed(bar(k, volume=Decimal(-1)))
    validator.feed(bar(10))
    report = validator.report
    assert len(report.rejected_examples) == 2 and report.rejected == 5
    assert report.series[("BTCUSDT", "1m")].first_ts == T0 + 10 * MINUTE
    text = report.render()
    assert "6 bars: 1 accepted, 5 rejected" in text
    assert "negative volume: 5" in text
    assert "rejected (first 2 of 5):" in text
    assert "x.csv:3: close is empty" in text
    assert not report.clean


series_events = st.lists(
    st.tuples(st.sampled_from(["A", "B"]), st.integers(0, 30), st.booleans()), max_size=120
)


@settings(max_examples=200, deadline=None)
@given(events=series_events, seed=st.integers(0, 10**6))
def test_shuffled_duplicated_input_never_accepts_out_of_order_or_duplicates(
    events: list[tuple[str, int, bool]], seed: int
) -> None:
    random.Random(seed).shuffle(events)
    validator = BarValidator()
    accepted: dict[str, list[int]] = {"A": [], "B": []}
    for symbol, k, conflicting in events:
        verdict = validator.check(bar(k, symbol=symbol, close="100.7" if conflicting else "100.5"))
        if verdict.accepted:
            accepted[symbol].append(verdict.bar.ts_open)
    for stamps in accepted.values():
        assert stamps == sorted(set(stamps))  # strictly increasing: no duplicate, nothing out of order
    report = validator.report
    assert report.accepted == sum(map(len, accepted.values()))
    assert report.total == len(events)


@settings(max_examples=100, deadline=None)
@given(ks=st.lists(st.integers(0, 500), min_size=1, unique=True))
def test_in_order_input_is_all_accepted_and_gaps_count_every_missing_bar(ks: list[int]) -> None:
    ks.sort()
    validator = BarValidator()
    assert all(validator.check(bar(k)).accepted for k in ks)
    report = validator.report
    assert report.missing_bars == ks[-1] - ks[0] + 1 - len(ks)
    assert report.gap_count == sum(1 for a, b in pairwise(ks) if b - a > 1)
