"""The offline feature store on a real PostgreSQL: registration, idempotent inserts, exact values, frames."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pandas as pd
import pytest

from kestrel_store import features as features_module
from kestrel_store.features import (
    FeatureRow,
    FeatureSetMismatchError,
    feature_set_names,
    fetch_feature_frame,
    fetch_vectors,
    insert_vectors,
    register_feature_set,
)

pytestmark = pytest.mark.integration

NAMES = ("ret_1", "rsi_14", "corr_spx_20")
START = datetime(2024, 1, 30, tzinfo=UTC)  # the series crosses a month (and partition) boundary


def _rows(symbol: str, count: int, version: str = "v1", timeframe: str = "1d") -> list[FeatureRow]:
    return [
        FeatureRow(
            symbol=symbol,
            timeframe=timeframe,
            ts=START + timedelta(days=i),
            feature_set_version=version,
            values=(i / 3, 50.0 + i * 1e-12, math.nan if i % 2 else -0.1 * i),
            source_event_id=uuid4(),
            event_id=uuid4(),
        )
        for i in range(count)
    ]


async def test_a_feature_set_registers_once_and_refuses_other_names(pool: asyncpg.Pool) -> None:
    assert await register_feature_set(pool, "v1", NAMES) is True
    assert await register_feature_set(pool, "v1", NAMES) is False
    assert await feature_set_names(pool, "v1") == NAMES
    assert await feature_set_names(pool, "v0") is None
    with pytest.raises(FeatureSetMismatchError, match="new version"):
        await register_feature_set(pool, "v1", (*NAMES, "extra"))


async def test_inserts_are_idempotent_and_values_round_trip_exactly_nan_included(pool: asyncpg.Pool) -> None:
    await register_feature_set(pool, "v1", NAMES)
    rows = _rows("BTC/USDT", 5)
    assert await insert_vectors(pool, rows) == 5
    assert await insert_vectors(pool, rows) == 0  # a replay stores nothing twice
    changed = [replace(r, values=(9.0, 9.0, 9.0)) for r in rows[:2]]
    assert await insert_vectors(pool, [*changed, *_rows("BTC/USDT", 7)[5:]]) == 2  # the first vector stays

    read = await fetch_vectors(pool, "BTC/USDT", "1d", "v1")
    assert [r.ts for r in read] == [START + timedelta(days=i) for i in range(7)]
    for got, sent in zip(read[:5], rows, strict=True):
        assert (got.source_event_id, got.event_id) == (sent.source_event_id, sent.event_id)
        assert all(
            (math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got.values, sent.values, strict=True)
        )


async def test_large_batches_are_chunked_and_counted(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(features_module, "INSERT_CHUNK", 4)
    await register_feature_set(pool, "v1", NAMES)
    assert await insert_vectors(pool, _rows("ETH/USDT", 10)) == 10
    assert await insert_vectors(pool, _rows("ETH/USDT", 11)) == 1


async def test_a_vector_of_an_unregistered_version_is_refused(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await insert_vectors(pool, _rows("BTC/USDT", 1, version="nope"))


async def test_the_feature_frame_has_a_ts_index_and_one_column_per_feature(pool: asyncpg.Pool) -> None:
    await register_feature_set(pool, "v1", NAMES)
    await register_feature_set(pool, "v2", ("a",))
    await insert_vectors(pool, _rows("BTC/USDT", 6))
    await insert_vectors(pool, _rows("ETH/USDT", 6))  # other symbols, timeframes
    await insert_vectors(pool, _rows("BTC/USDT", 6, timeframe="1h"))  # and versions stay out
    await insert_vectors(pool, [replace(r, values=(1.0,)) for r in _rows("BTC/USDT", 6, version="v2")])

    frame = await fetch_feature_frame(
        pool, "BTC/USDT", "1d", START + timedelta(days=1), START + timedelta(days=5), version="v1"
    )

    assert list(frame.columns) == list(NAMES)
    assert frame.index.name == "ts"
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert str(frame.index.tz) == "UTC"
    assert list(frame.index) == [START + timedelta(days=i) for i in range(1, 5)]  # end is exclusive
    assert frame.dtypes.unique().tolist() == ["float64"]
    assert frame["ret_1"].tolist() == [i / 3 for i in range(1, 5)]
    assert frame["corr_spx_20"].isna().tolist() == [True, False, True, False]


async def test_an_empty_range_gives_an_empty_frame_with_the_columns(pool: asyncpg.Pool) -> None:
    await register_feature_set(pool, "v1", NAMES)
    frame = await fetch_feature_frame(pool, "BTC/USDT", "1d", START, START + timedelta(days=3), version="v1")
    assert frame.empty
    assert list(frame.columns) == list(NAMES)


async def test_an_unknown_version_is_a_lookup_error(pool: asyncpg.Pool) -> None:
    with pytest.raises(LookupError, match="not registered"):
        await fetch_feature_frame(pool, "BTC/USDT", "1d", START, START + timedelta(days=3), version="v9")
