"""The ingestion bar store: the in-memory fake and PostgreSQL pass the same contract."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from kestrel_ingestion.adapters.bar_store import BarStore, InMemoryBarStore, PostgresBarStore
from kestrel_ingestion.domain import RawBar
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_testing.databases import temporary_database

MINUTE = 60_000_000_000
T0 = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z


def raw(symbol: str, i: int, close: str = "100.5") -> RawBar:
    price = Decimal(close)
    return RawBar(symbol, "1m", T0 + i * MINUTE, price, price + 1, price - 1, price, Decimal("3.25"), "test")


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[BarStore]:
    if request.param == "memory":
        yield InMemoryBarStore()
        return
    server: str = request.getfixturevalue("database_url")
    async with temporary_database(server, f"kestrel_test_{uuid.uuid4().hex[:10]}") as url:
        pool = await create_pool(url)
        await apply_migrations(pool)
        try:
            yield PostgresBarStore(pool)
        finally:
            await pool.close()


async def test_writing_the_same_bars_twice_stores_them_once(store: BarStore) -> None:
    bars = [raw("BTC/USDT", i) for i in range(5)]
    assert await store.write(bars) == 5
    assert await store.write([*bars[2:], raw("BTC/USDT", 5)]) == 1


async def test_a_stored_bar_is_not_overwritten_by_a_conflicting_one(store: BarStore) -> None:
    await store.write([raw("ETH/USDT", 0, "10")])
    assert await store.write([raw("ETH/USDT", 0, "11")]) == 0


async def test_published_mark_only_moves_forward_and_matches_both_symbol_spellings(store: BarStore) -> None:
    assert await store.resume_after("binance", "BTC/USDT", "1m") is None
    await store.mark_published("binance", {("BTC/USDT", "1m"): T0 + 5 * MINUTE})
    await store.mark_published("binance", {("BTC/USDT", "1m"): T0 + 2 * MINUTE})
    assert await store.resume_after("binance", "BTC/USDT", "1m") == T0 + 5 * MINUTE
    assert await store.resume_after("binance", "BTCUSDT", "1m") == T0 + 5 * MINUTE
    assert await store.resume_after("binance", "BTC/USDT", "5m") is None
    assert await store.resume_after("replay", "BTC/USDT", "1m") is None
