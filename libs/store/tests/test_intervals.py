"""Timeframe, bucket and partition-request logic that needs no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kestrel_store.timeseries import as_interval, ensure_partitions_for, timeframe_to_interval


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


class _RecordingConnection:
    """A stand-in for an asyncpg connection that records the one query ensure_partitions_for sends."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def execute(self, query: str, *args: Any) -> str:
        raise AssertionError("not expected")

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        raise AssertionError("not expected")

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.calls.append((query, args))
        return 2


async def test_ensure_partitions_sends_one_utc_day_per_distinct_day() -> None:
    conn = _RecordingConnection()
    new_york = timezone(timedelta(hours=-5))
    stamps = [
        datetime(2024, 1, 31, 23, 59, tzinfo=UTC),
        datetime(2024, 1, 31, 0, 0, tzinfo=UTC),
        datetime(2024, 1, 31, 20, 0, tzinfo=new_york),  # 2024-02-01 01:00 UTC
        *(datetime(2024, 2, 1, 2, m, tzinfo=UTC) for m in range(60)),
    ]

    assert await ensure_partitions_for(conn, "market.bars", stamps) == 2

    ((query, (table, days)),) = conn.calls
    assert "kestrel.ensure_partitions_for" in query
    assert table == "market.bars"
    assert days == [datetime(2024, 1, 31, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)]


async def test_ensure_partitions_skips_empty_batches_and_rejects_naive_times() -> None:
    conn = _RecordingConnection()
    assert await ensure_partitions_for(conn, "market.bars", []) == 0
    assert conn.calls == []
    with pytest.raises(ValueError, match="naive datetime"):
        await ensure_partitions_for(conn, "market.bars", [datetime(2024, 1, 1)])
