"""kestrel.time_bucket and bar resampling on a real PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from kestrel_store.bars import Bar, upsert_bars
from kestrel_store.timeseries import resample_bars, time_bucket

pytestmark = pytest.mark.integration


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("bucket", "ts", "expected"),
    [
        ("1 hour", datetime(2024, 3, 10, 7, 37, 12, tzinfo=UTC), _utc(2024, 3, 10, 7)),
        ("15m", datetime(2024, 3, 10, 7, 44, 59, tzinfo=UTC), _utc(2024, 3, 10, 7, 30)),
        ("4h", _utc(2024, 3, 10, 3, 0), _utc(2024, 3, 10, 0)),
        ("1d", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), _utc(2024, 2, 29)),
        ("1w", _utc(2024, 3, 17, 23), _utc(2024, 3, 11)),  # weeks start on Monday
        ("1M", _utc(2024, 2, 29, 23), _utc(2024, 2, 1)),
        ("3 months", _utc(2024, 5, 13), _utc(2024, 4, 1)),  # quarters
        ("1 year", _utc(1999, 12, 31, 23, 59), _utc(1999, 1, 1)),
        (timedelta(minutes=5), _utc(1999, 12, 31, 23, 59), _utc(1999, 12, 31, 23, 55)),
    ],
)
async def test_time_bucket_boundaries(
    pool: asyncpg.Pool, bucket: str, ts: datetime, expected: datetime
) -> None:
    assert await time_bucket(pool, bucket, ts) == expected


async def test_time_bucket_ignores_the_session_time_zone(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SET TimeZone = 'America/New_York'")
        # 2024-03-01 02:00 UTC is still February in New York; buckets are UTC regardless.
        assert await time_bucket(conn, "1M", _utc(2024, 3, 1, 2)) == _utc(2024, 3, 1)
        assert await time_bucket(conn, "1d", _utc(2024, 3, 10, 3)) == _utc(2024, 3, 10)


async def test_time_bucket_is_inlined_to_the_builtin(pool: asyncpg.Pool) -> None:
    """The wrapper must cost nothing: the planner replaces it by the builtin it wraps."""
    rows = await pool.fetch("EXPLAIN (VERBOSE) SELECT kestrel.time_bucket('1 hour', ts) FROM market.bars")
    plan = "\n".join(row[0] for row in rows)
    builtin = "time_bucket(" if await pool.fetchval("SELECT kestrel.has_timescaledb()") else "date_bin("
    assert builtin in plan
    assert "kestrel.time_bucket" not in plan


async def test_mixed_month_and_day_buckets_are_rejected(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.PostgresError, match="months"):
        await time_bucket(pool, "1 month 1 day", _utc(2024, 1, 1))


async def test_resample_minute_bars_to_hours(pool: asyncpg.Pool) -> None:
    start = _utc(2024, 1, 2, 9)
    rng = random.Random(7)
    bars = []
    for minute in range(150):  # 09:00-11:29: two full hours and half of a third
        base = Decimal(100) + Decimal(rng.randint(-500, 500)) / 100
        open_ = base + Decimal("0.01") * rng.randint(-9, 9)
        close = base + Decimal("0.01") * rng.randint(-9, 9)
        high = max(open_, close) + Decimal("0.05")
        low = min(open_, close) - Decimal("0.05")
        volume = Decimal(rng.randint(1, 10_000)) / 1000
        ts = start + timedelta(minutes=minute)
        bars.append(Bar("ETH/USDT", "1m", ts, open_, high, low, close, volume, uuid4()))
    other_symbol = [replace(b, symbol="BTC/USDT", event_id=uuid4()) for b in bars]
    shuffled = bars[:]
    rng.shuffle(shuffled)  # first/last must follow ts, not insertion order
    await upsert_bars(pool, shuffled + other_symbol)

    result = await resample_bars(
        pool, "ETH/USDT", "1m", bucket="1h", start=start, end=start + timedelta(hours=3)
    )

    assert [r.bucket for r in result] == [start, start + timedelta(hours=1), start + timedelta(hours=2)]
    assert [r.bar_count for r in result] == [60, 60, 30]
    for hour, resampled in enumerate(result):
        chunk = bars[hour * 60 : hour * 60 + 60]
        assert resampled.open == chunk[0].open
        assert resampled.close == chunk[-1].close
        assert resampled.high == max(b.high for b in chunk)
        assert resampled.low == min(b.low for b in chunk)
        assert resampled.volume == sum((b.volume for b in chunk), Decimal(0))
        assert isinstance(resampled.volume, Decimal)


async def test_resample_daily_to_months_and_range_bounds(pool: asyncpg.Pool) -> None:
    days = [_utc(2024, 1, 1) + timedelta(days=d) for d in range(91)]  # Jan, Feb (leap), Mar
    prices = [Decimal(d + 10) for d in range(len(days))]
    await upsert_bars(
        pool,
        [
            Bar("SPX", "1d", ts, p, p + 1, p - 1, p, Decimal(1), uuid4())
            for ts, p in zip(days, prices, strict=True)
        ],
    )

    result = await resample_bars(pool, "SPX", "1d", bucket="1M", start=_utc(2024, 1, 1), end=_utc(2024, 3, 1))

    assert [(r.bucket, r.bar_count) for r in result] == [(_utc(2024, 1, 1), 31), (_utc(2024, 2, 1), 29)]
    assert (result[1].open, result[1].close) == (Decimal(41), Decimal(69))
    assert (result[1].low, result[1].high) == (Decimal(40), Decimal(70))
