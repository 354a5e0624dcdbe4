"""The online store contract, asserted identically on the in-memory fake and on real Redis."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest

from kestrel_features.adapters.memory import InMemoryOnlineStore
from kestrel_features.adapters.redis_online import RedisOnlineStore
from kestrel_features.ports import OnlineStore, OnlineVector, SnapshotMarker, StateSnapshot

NS = 1_700_000_000_000_000_000  # int64 nanoseconds, far beyond what a double holds exactly


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest, unique: str) -> AsyncIterator[OnlineStore]:
    if request.param == "memory":
        yield InMemoryOnlineStore()
        return
    redis_store = RedisOnlineStore.from_url(
        request.getfixturevalue("redis_url"),
        "1m",
        vector_prefix=f"test:{unique}:feat:",
        state_prefix=f"test:{unique}:featstate:",
    )
    try:
        yield redis_store
    finally:
        client = redis_store._redis
        keys = [key async for key in client.scan_iter(match=f"test:{unique}:*")]
        if keys:
            await client.delete(*keys)
        await redis_store.close()


def _snapshot(ts_open: int, version: str = "v1", state: bytes = b"\x00state\xff") -> StateSnapshot:
    return StateSnapshot(version=version, ts_open=ts_open, bars_seen=42, state=state)


def _vector(ts_open: int, version: str = "v1", **values: float) -> OnlineVector:
    return OnlineVector(
        symbol="BTC/USDT",
        timeframe="1m",
        version=version,
        ts_open=ts_open,
        ts_event=ts_open + 60_000_000_000,
        event_id="8f0e2b1c-3d4e-5f60-8a9b-0c1d2e3f4a5b",
        source_bar_event_id="1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d",
        close="42000.5",
        values=values or {"rsi_14": 55.5, "ret_1": -0.001},
    )


async def test_nothing_is_there_before_the_first_commit(store: OnlineStore) -> None:
    assert await store.marker("BTC/USDT") is None
    assert await store.load_snapshot("BTC/USDT") is None
    assert await store.latest_vector("BTC/USDT") is None


async def test_a_snapshot_without_a_vector_is_stored_alone(store: OnlineStore) -> None:
    assert await store.commit("BTC/USDT", _snapshot(NS), None)
    assert await store.marker("BTC/USDT") == SnapshotMarker("v1", NS)
    assert await store.load_snapshot("BTC/USDT") == _snapshot(NS)
    assert await store.latest_vector("BTC/USDT") is None


async def test_snapshot_and_vector_read_back_exactly(store: OnlineStore) -> None:
    state = bytes(range(256)) * 40  # binary, ~10 kB: what a real state snapshot looks like
    assert await store.commit("BTC/USDT", _snapshot(NS, state=state), _vector(NS))
    assert await store.load_snapshot("BTC/USDT") == _snapshot(NS, state=state)
    assert await store.latest_vector("BTC/USDT") == _vector(NS)


async def test_undefined_values_read_back_as_nan(store: OnlineStore) -> None:
    vector = _vector(NS, ok=1.25, undefined=math.nan, blown_up=math.inf)
    await store.commit("BTC/USDT", _snapshot(NS), vector)
    got = await store.latest_vector("BTC/USDT")
    assert got is not None
    assert got.values["ok"] == 1.25
    assert math.isnan(got.values["undefined"]) and math.isnan(got.values["blown_up"])


async def test_a_commit_at_or_before_the_stored_position_is_refused_and_changes_nothing(
    store: OnlineStore,
) -> None:
    await store.commit("BTC/USDT", _snapshot(NS), _vector(NS))
    assert not await store.commit("BTC/USDT", _snapshot(NS, state=b"other"), _vector(NS, x=1.0))
    assert not await store.commit("BTC/USDT", _snapshot(NS - 1, state=b"older"), _vector(NS - 1))
    assert await store.load_snapshot("BTC/USDT") == _snapshot(NS)
    assert await store.latest_vector("BTC/USDT") == _vector(NS)
    # One nanosecond later is later, although a double cannot tell the two apart.
    assert await store.commit("BTC/USDT", _snapshot(NS + 1), _vector(NS + 1))
    assert await store.marker("BTC/USDT") == SnapshotMarker("v1", NS + 1)


async def test_a_shorter_position_string_is_an_earlier_one(store: OnlineStore) -> None:
    await store.commit("BTC/USDT", _snapshot(10_000), None)
    assert not await store.commit("BTC/USDT", _snapshot(9_999), None)
    assert await store.commit("BTC/USDT", _snapshot(100_000), None)


async def test_another_feature_set_version_replaces_the_snapshot_whatever_its_position(
    store: OnlineStore,
) -> None:
    await store.commit("BTC/USDT", _snapshot(NS), _vector(NS))
    assert await store.commit("BTC/USDT", _snapshot(NS - 10, version="v2"), _vector(NS - 10, version="v2"))
    assert await store.marker("BTC/USDT") == SnapshotMarker("v2", NS - 10)
    assert await store.latest_vector("BTC/USDT") == _vector(NS - 10, version="v2")


async def test_symbols_are_independent(store: OnlineStore) -> None:
    await store.commit("BTC/USDT", _snapshot(NS), _vector(NS))
    await store.commit("ETH/USDT", _snapshot(NS - 5), None)
    assert await store.marker("ETH/USDT") == SnapshotMarker("v1", NS - 5)
    assert await store.latest_vector("ETH/USDT") is None
    assert await store.marker("BTC/USDT") == SnapshotMarker("v1", NS)


async def test_a_vector_written_with_a_snapshot_replaces_the_previous_latest(store: OnlineStore) -> None:
    await store.commit("BTC/USDT", _snapshot(NS), _vector(NS, a=1.0))
    await store.commit("BTC/USDT", _snapshot(NS + 60), None)  # a warm-up bar: no vector, old one stays
    assert await store.latest_vector("BTC/USDT") == _vector(NS, a=1.0)
    await store.commit("BTC/USDT", _snapshot(NS + 120), _vector(NS + 120, a=2.0))
    assert await store.latest_vector("BTC/USDT") == _vector(NS + 120, a=2.0)
