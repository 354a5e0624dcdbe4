"""The market.bars repository on a real PostgreSQL: exact decimals, idempotent upserts, range reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from kestrel_store import bars as bars_module
from kestrel_store.bars import Bar, fetch_bars, latest_bar_ts, upsert_bars

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True, params=["copy", "unnest"])
def write_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs through both write paths: COPY + staging table, and one unnest INSERT."""
    monkeypatch.setattr(bars_module, "COPY_MIN_ROWS", 1 if request.param == "copy" else 1_000_000)
    return str(request.param)


START = datetime(2024, 1, 31, 22, tzinfo=UTC)  # the series crosses a month (and partition) boundary


def _series(symbol: str, count: int, timeframe: str = "1h") -> list[Bar]:
    bars = []
    for i in range(count):
        open_ = Decimal("42000.12345678") + Decimal(i) / 1000
        close = open_ + Decimal("0.5")
        high, low = close + Decimal("0.00000001"), open_ - 1
        ts = START + timedelta(hours=i)
        bars.append(Bar(symbol, timeframe, ts, open_, high, low, close, Decimal("0.00012345"), uuid4()))
    return bars


async def test_written_bars_read_back_exactly(pool: asyncpg.Pool) -> None:
    written = _series("BTC/USDT", 10)
    assert await upsert_bars(pool, written) == 10

    read = await fetch_bars(pool, "BTC/USDT", "1h")

    assert read == written  # Decimal equality to the last digit, UUIDs and aware timestamps intact
    assert read[0].high - read[0].close == Decimal("0.00000001")


async def test_replayed_batch_is_a_no_op(pool: asyncpg.Pool) -> None:
    written = _series("ETH/USDT", 5)
    await upsert_bars(pool, written)
    replay = [replace(b, event_id=uuid4()) for b in written]

    assert await upsert_bars(pool, replay) == 0
    assert await fetch_bars(pool, "ETH/USDT", "1h") == written  # original event ids kept


async def test_update_mode_replaces_only_changed_bars(pool: asyncpg.Pool) -> None:
    written = _series("SOL/USDT", 4)
    await upsert_bars(pool, written)
    corrected = replace(written[2], close=written[2].close - Decimal("0.25"), event_id=uuid4())

    changed = await upsert_bars(pool, [written[1], corrected], on_conflict="update")

    assert changed == 1  # written[1] is identical, so it is not rewritten
    read = await fetch_bars(pool, "SOL/USDT", "1h")
    assert read[2] == corrected
    assert read[:2] == written[:2]


async def test_duplicate_keys_inside_one_batch_keep_the_last(pool: asyncpg.Pool) -> None:
    first, *_ = _series("ADA/USDT", 1)
    later = replace(first, close=first.close - 1, event_id=uuid4())

    assert await upsert_bars(pool, [first, later], on_conflict="update") == 1
    assert await fetch_bars(pool, "ADA/USDT", "1h") == [later]


async def test_range_and_limit_and_latest(pool: asyncpg.Pool) -> None:
    btc = _series("BTC/USDT", 24)
    await upsert_bars(pool, btc + _series("ETH/USDT", 24) + _series("BTC/USDT", 3, timeframe="1d"))

    window = await fetch_bars(pool, "BTC/USDT", "1h", btc[5].ts, btc[9].ts)
    assert window == btc[5:9]  # start inclusive, end exclusive
    assert await fetch_bars(pool, "BTC/USDT", "1h", start=btc[20].ts) == btc[20:]
    assert await fetch_bars(pool, "BTC/USDT", "1h", end=btc[2].ts) == btc[:2]
    assert await fetch_bars(pool, "BTC/USDT", "1h", limit=3) == btc[:3]
    assert await latest_bar_ts(pool, "BTC/USDT", "1h") == btc[-1].ts
    assert await latest_bar_ts(pool, "DOGE/USDT", "1h") is None


async def test_inconsistent_bar_is_refused_by_the_database(pool: asyncpg.Pool) -> None:
    good, bad_base = _series("XRP/USDT", 2)
    bad = replace(bad_base, high=bad_base.low - 1)  # high below low

    with pytest.raises(asyncpg.CheckViolationError, match="bars_ohlc_consistent"):
        await upsert_bars(pool, [good, bad])
    assert await fetch_bars(pool, "XRP/USDT", "1h") == []  # the batch is atomic


async def test_works_on_a_bare_connection_and_inside_its_transaction(migrated_database: str) -> None:
    conn = await asyncpg.connect(migrated_database)
    try:
        written = _series("BNB/USDT", 6)
        assert await upsert_bars(conn, written[:2]) == 2
        async with conn.transaction():  # several batches in one caller transaction
            assert await upsert_bars(conn, written[2:4], ensure_partitions=False) == 2
            assert await upsert_bars(conn, written[4:], ensure_partitions=False) == 2
        assert await fetch_bars(conn, "BNB/USDT", "1h") == written
    finally:
        await conn.close()


async def test_large_batch_spanning_many_months(pool: asyncpg.Pool) -> None:
    bars = _series("LOAD/USDT", 20_000)  # hourly: about 28 months
    assert await upsert_bars(pool, bars) == 20_000
    assert await pool.fetchval("SELECT count(*) FROM market.bars WHERE symbol = 'LOAD/USDT'") == 20_000
    assert await fetch_bars(pool, "LOAD/USDT", "1h", bars[12_345].ts, limit=2) == bars[12_345:12_347]
