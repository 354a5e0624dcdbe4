"""The PostgreSQL adapters on a fresh, migrated database: offline store and bar history."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import asyncpg
import pytest

from kestrel_features.adapters.sql import SqlBarHistory, SqlOfflineStore
from kestrel_features.ports import StoredVector
from kestrel_features.testing import DAY_NS, history_bar, make_series
from kestrel_store import bars as bar_rows
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await apply_migrations(fresh_database_url)
    store_pool = await create_pool(fresh_database_url, max_size=2)
    try:
        yield store_pool
    finally:
        await store_pool.close()


def _vector(ts_open: int, values: tuple[float, ...] = (1.5, math.nan)) -> StoredVector:
    return StoredVector(
        symbol="BTC/USDT",
        timeframe="1d",
        ts_open=ts_open,
        version="v1",
        values=values,
        source_event_id="1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d",
        event_id="8f0e2b1c-3d4e-5f60-8a9b-0c1d2e3f4a5b",
    )


async def test_the_offline_store_inserts_once_and_reads_the_stored_vector_back(pool: asyncpg.Pool) -> None:
    store = SqlOfflineStore(pool)
    await store.register_feature_set("v1", ("a", "b"))
    await store.register_feature_set("v1", ("a", "b"))  # idempotent
    ts = make_series("BTC/USDT", 1)[0].ts_open

    assert await store.insert_vector(_vector(ts)) is True
    assert await store.insert_vector(_vector(ts, (9.0, 9.0))) is False  # the first one stays

    stored = await store.stored_vector("BTC/USDT", "1d", "v1", ts)
    assert stored is not None
    assert stored.values[0] == 1.5 and math.isnan(stored.values[1])
    assert (stored.ts_open, stored.event_id, stored.source_event_id) == (
        ts,
        _vector(ts).event_id,
        _vector(ts).source_event_id,
    )
    assert await store.stored_vector("BTC/USDT", "1d", "v1", ts + DAY_NS) is None


async def test_the_bar_history_reads_windows_before_and_closes_after(pool: asyncpg.Pool) -> None:
    bars = make_series("REF", 10)
    await bar_rows.upsert_bars(
        pool,
        [bar_rows.row_from_event(b) for b in bars],
    )
    history = SqlBarHistory(pool)

    before = await history.bars_before("REF", "1d", bars[6].ts_open, 4)
    assert before == [history_bar(b) for b in bars[2:6]]  # the last four strictly before, oldest first
    assert await history.bars_before("REF", "1d", bars[0].ts_open, 4) == []
    assert await history.closes_from("REF", "1d", bars[7].ts_open, 2) == {
        b.ts_open: float(b.close) for b in bars[7:9]
    }
    assert await history.closes_between("REF", "1d", bars[1].ts_open, bars[3].ts_open) == {
        b.ts_open: float(b.close) for b in bars[1:4]
    }
    assert await history.closes_from("OTHER", "1d", bars[0].ts_open, 5) == {}
