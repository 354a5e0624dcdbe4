"""Session calendars behind gap detection."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kestrel_ingestion.calendars import NS_PER_DAY, nyse_holidays, sessions_between

HOUR = 3_600 * 10**9


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


def test_continuous_counts_every_slot() -> None:
    assert sessions_between("24/7", ns("2024-01-01"), ns("2024-01-01T00:05"), 60 * 10**9) == 4
    assert sessions_between("24/7", ns("2024-01-01"), ns("2024-01-01T00:01"), 60 * 10**9) == 0


def test_weekdays_skip_weekends() -> None:
    assert sessions_between("weekdays", ns("2024-01-05"), ns("2024-01-08"), NS_PER_DAY) == 0  # Fri -> Mon
    assert sessions_between("weekdays", ns("2024-01-05"), ns("2024-01-16"), NS_PER_DAY) == 6


def test_nyse_holidays_follow_the_rules() -> None:
    assert nyse_holidays(2024) == {
        date(2024, m, d)
        for m, d in ((1, 1), (1, 15), (2, 19), (3, 29), (5, 27), (6, 19), (7, 4), (9, 2), (11, 28), (12, 25))
    }
    assert date(2022, 12, 26) in nyse_holidays(2022)  # Christmas on a Sunday -> Monday
    assert date(2021, 12, 31) not in nyse_holidays(2021)  # New Year on a Saturday is not made up
    assert date(2021, 12, 24) in nyse_holidays(2021)  # Christmas on a Saturday -> Friday
    assert {date(2001, 9, d) for d in (11, 12, 13, 14)} <= nyse_holidays(2001)
    assert date(2000, 4, 21) in nyse_holidays(2000)  # Good Friday from the Easter computation


def test_fx_weekend_is_closed_whatever_the_daylight_saving() -> None:
    assert sessions_between("fx", ns("2017-07-07T20:00"), ns("2017-07-09T21:00"), HOUR) == 0  # summer
    assert sessions_between("fx", ns("2017-12-01T21:00"), ns("2017-12-03T22:00"), HOUR) == 0  # winter
    assert sessions_between("fx", ns("2017-12-22T21:00"), ns("2017-12-25T22:00"), HOUR) == 24  # Christmas


def test_long_stretches_are_counted_in_passes() -> None:
    start = ns("2020-01-06")  # Monday
    four_weeks_of_seconds = sessions_between("weekdays", start, start + 28 * NS_PER_DAY, 10**9)
    assert four_weeks_of_seconds == 20 * 86_400 - 1


def test_unknown_calendar() -> None:
    with pytest.raises(ValueError, match="unknown calendar"):
        sessions_between("moon", 0, NS_PER_DAY * 3, NS_PER_DAY)
