"""The sequence model's window source against REAL PostgreSQL: ``StoreVectorHistory`` keeps the same
contract as the in-memory fake the unit tests use (``check_history_contract``)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import pytest

from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_inference.testing import FEATURE_SET, NAMES, check_history_contract
from kestrel_inference.vector_window import StoreVectorHistory
from kestrel_store.features import FeatureRow, insert_vectors, register_feature_set
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration
DAY = 86_400 * 10**9


async def test_the_store_history_keeps_the_contract(database_url: str, unique: str) -> None:
    await apply_migrations(database_url)
    pool = await create_pool(database_url, max_size=2)
    try:
        await register_feature_set(pool, FEATURE_SET, NAMES)

        async def put(vectors: Sequence[FeatureVector]) -> None:
            rows = [
                FeatureRow(
                    symbol=v.symbol,
                    timeframe=v.timeframe,
                    ts=ns_to_datetime(
                        v.ts_event - DAY
                    ),  # the bar's open time, as the features service stores
                    feature_set_version=v.feature_set_version,
                    values=[v.values[n] for n in NAMES],
                    source_event_id=UUID(v.source_bar_event_id),
                    event_id=UUID(v.event_id),
                )
                for v in vectors
            ]
            await insert_vectors(pool, rows)

        history = StoreVectorHistory(database_url)
        try:
            await check_history_contract(put, history, prefix=f"{unique}-")
        finally:
            await history.close()
    finally:
        await pool.close()
