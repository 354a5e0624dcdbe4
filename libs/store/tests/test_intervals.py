"""Timeframe and bucket conversions: pure logic, no database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from kestrel_store.timeseries import as_interval, timeframe_to_interval


@pytest.mark.parametrize(
    ("timeframe", "interval"),
    [
        ("1m", "1 minutes"),
        ("15m", "15 minutes"),
        ("4h", "4 hours"),
        ("1d", "1 days"),
        ("1w", "1 weeks"),
        ("1M", "1 months"),
        ("30s", "30 seconds"),
    ],
)
def test_timeframe_to_interval(timeframe: str, interval: str) -> None:
    assert timeframe_to_interval(timeframe) == interval


@pytest.mark.parametrize("bad", ["", "m", "0m", "1x", "1 m", "01m", "1h30m"])
def test_unknown_timeframe_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown timeframe"):
        timeframe_to_interval(bad)


def test_as_interval_accepts_timedelta_timeframe_and_literal() -> None:
    assert as_interval(timedelta(minutes=15)) == "900000000 microseconds"
    assert as_interval(timedelta(days=1, microseconds=5)) == "86400000005 microseconds"
    assert as_interval("1h") == "1 hours"
    assert as_interval("3 months") == "3 months"


@pytest.mark.parametrize("bad", [timedelta(0), timedelta(seconds=-1)])
def test_non_positive_timedelta_is_rejected(bad: timedelta) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        as_interval(bad)
