"""Native range partitions on plain PostgreSQL: rows land in the right monthly partition, or in
DEFAULT when no partition covers them, and maintenance moves DEFAULT rows into new partitions.

This is the storage the development machines use (TimescaleDB cannot be installed there). On a
TimescaleDB server these tables are hypertables instead — chunks are TimescaleDB's business — so these
tests do not apply there and are skipped, saying so; the storage-agnostic tests still run.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from kestrel_store.bars import Bar, upsert_bars
from kestrel_store.timeseries import ensure_partitions_for, maintain_partitions

pytestmark = pytest.mark.integration


def _bar(ts: datetime, symbol: str = "SPX", close: str = "100.5") -> Bar:
    price = Decimal(close)
    return Bar(symbol, "1d", ts, price, price + 1, price - 1, price, Decimal("10"), uuid4())


async def _landed_in(pool: asyncpg.Pool) -> dict[datetime, str]:
    """Which physical partition holds each bar, by ts (tableoid is the partition a row lives in)."""
    rows = await pool.fetch("SELECT ts, tableoid::regclass::text AS part FROM market.bars")
    return {row["ts"]: row["part"] for row in rows}


async def _partitions(pool: asyncpg.Pool, parent: str) -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT c.oid::regclass::text AS part, pg_get_expr(c.relpartbound, c.oid) AS bound "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass",
        parent,
    )
    return {row["part"]: row["bound"] for row in rows}


@pytest.fixture(autouse=True)
async def _native_partitioning_only(pool: asyncpg.Pool) -> None:
    if await pool.fetchval("SELECT kestrel.has_timescaledb()"):
        pytest.skip("TimescaleDB server: time-series tables are hypertables, not native partitions")


async def test_rows_land_in_their_month_or_in_default(pool: asyncpg.Pool) -> None:
    assert await ensure_partitions_for(pool, "market.bars", [datetime(2024, 2, 10, tzinfo=UTC)]) == 1
    inside = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    first_instant = datetime(2024, 2, 1, tzinfo=UTC)
    outside = datetime(1999, 1, 4, tzinfo=UTC)

    await upsert_bars(pool, [_bar(inside), _bar(first_instant), _bar(outside)], ensure_partitions=False)

    assert await _landed_in(pool) == {
        inside: "market.bars_p202402",
        first_instant: "market.bars_p202402",
        outside: "market.bars_default",
    }
    bounds = await _partitions(pool, "market.bars")
    assert bounds["market.bars_p202402"] == (
        "FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00')"
    )
    assert bounds["market.bars_default"] == "DEFAULT"


async def test_new_partition_takes_over_rows_parked_in_default(pool: asyncpg.Pool) -> None:
    parked = [datetime(1999, 1, 4, tzinfo=UTC) + timedelta(days=d) for d in range(0, 60, 3)]
    await upsert_bars(pool, [_bar(ts) for ts in parked], ensure_partitions=False)
    assert set((await _landed_in(pool)).values()) == {"market.bars_default"}

    created = await pool.fetchval(
        "SELECT kestrel.ensure_partitions('market.bars', $1, $2)",
        datetime(1999, 1, 1, tzinfo=UTC),
        datetime(1999, 3, 31, tzinfo=UTC),
    )

    assert created == 3
    landed = await _landed_in(pool)
    assert {ts: part for ts, part in landed.items()} == {
        ts: f"market.bars_p1999{ts.month:02d}" for ts in parked
    }
    assert await pool.fetchval("SELECT count(*) FROM market.bars_default") == 0
    assert await pool.fetchval("SELECT count(*) FROM market.bars") == len(parked)


async def test_upsert_creates_only_the_months_its_batch_needs(pool: asyncpg.Pool) -> None:
    before = set(await _partitions(pool, "market.bars"))
    stamps = [datetime(2019, 5, 31, tzinfo=UTC), datetime(2021, 11, 1, tzinfo=UTC)]

    await upsert_bars(pool, [_bar(ts) for ts in stamps])

    added = set(await _partitions(pool, "market.bars")) - before
    assert added == {"market.bars_p201905", "market.bars_p202111"}
    assert await _landed_in(pool) == {
        stamps[0]: "market.bars_p201905",
        stamps[1]: "market.bars_p202111",
    }


async def test_daily_partitions_and_maintenance_ahead(pool: asyncpg.Pool) -> None:
    created = await maintain_partitions(pool, "10 days")
    assert created > 0  # the ticks table is daily: 10 days ahead needs more than the premade three
    parts = await _partitions(pool, "market.ticks")
    today = (await pool.fetchval("SELECT now()")).astimezone(UTC)
    for offset in range(11):
        day = today + timedelta(days=offset)
        assert f"market.ticks_p{day:%Y%m%d}" in parts
    assert await maintain_partitions(pool, "10 days") == 0


async def test_concurrent_partition_creation_is_safe(pool: asyncpg.Pool) -> None:
    stamps = [datetime(2010, month, 15, tzinfo=UTC) for month in range(1, 13)]
    results = await asyncio.gather(*(ensure_partitions_for(pool, "market.bars", stamps) for _ in range(4)))
    assert sum(results) == 12
    parts = await _partitions(pool, "market.bars")
    assert {f"market.bars_p2010{m:02d}" for m in range(1, 13)} <= set(parts)


async def test_runaway_range_is_refused(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.RaiseError, match="refusing to create more than 1200 partitions"):
        await pool.fetchval(
            "SELECT kestrel.ensure_partitions('market.bars', $1, $2)",
            datetime(2000, 1, 1, tzinfo=UTC),
            datetime(9999, 1, 1, tzinfo=UTC),
        )


async def test_other_timeseries_tables_are_partitioned_too(pool: asyncpg.Pool) -> None:
    """audit.events: written through plain SQL, read back from the month partition, jsonb intact."""
    ts = datetime(2024, 7, 3, 12, tzinfo=UTC)
    await ensure_partitions_for(pool, "audit.events", [ts])
    event_id = uuid4()
    payload = {"limit": Decimal("1000.50"), "symbol": "BTC/USDT", "checks": ["max_notional"]}
    await pool.execute(
        "INSERT INTO audit.events (event_id, ts, service, action, reason_code, payload) "
        "VALUES ($1, $2, 'risk', 'order_rejected', 'MAX_NOTIONAL', $3)",
        event_id,
        ts,
        payload,
    )
    row = await pool.fetchrow(
        "SELECT tableoid::regclass::text AS part, payload FROM audit.events WHERE event_id = $1", event_id
    )
    assert row["part"] == "audit.events_p202407"
    # Decimals inside JSON are stored as strings, never rounded through floats.
    assert row["payload"] == {"limit": "1000.50", "symbol": "BTC/USDT", "checks": ["max_notional"]}
