"""PostgreSQL edges: the offline store (features.vectors) and the bar history (market.bars)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from kestrel_contracts.events import datetime_to_ns, ns_to_datetime
from kestrel_features.ports import HistoryBar, StoredVector
from kestrel_store import features as feature_rows
from kestrel_store.timeseries import ensure_partitions_for


class SqlOfflineStore:
    """`OfflineStore` over kestrel_store.features, creating the partitions it writes into once each."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # Months whose partition this process has ensured. features.vectors is partitioned by month
        # (migration 0003), so one call per month keeps partition upkeep off the per-bar path; were
        # a partition missing anyway, the row would land in the DEFAULT partition, never fail.
        self._ensured: set[tuple[int, int]] = set()

    async def register_feature_set(self, version: str, names: Sequence[str]) -> None:
        await feature_rows.register_feature_set(self._pool, version, names)

    async def insert_vector(self, row: StoredVector) -> bool:
        return await self.insert_vectors([row]) == 1

    async def insert_vectors(self, rows: Sequence[StoredVector]) -> int:
        stored = [
            feature_rows.FeatureRow(
                symbol=row.symbol,
                timeframe=row.timeframe,
                ts=ns_to_datetime(row.ts_open),
                feature_set_version=row.version,
                values=row.values,
                source_event_id=UUID(row.source_event_id),
                event_id=UUID(row.event_id),
            )
            for row in rows
        ]
        months = {
            (r.ts.year, r.ts.month): r.ts for r in stored if (r.ts.year, r.ts.month) not in self._ensured
        }
        if months:
            await ensure_partitions_for(self._pool, "features.vectors", list(months.values()))
            self._ensured.update(months)
        return await feature_rows.insert_vectors(self._pool, stored, ensure_partitions=False)

    async def stored_vector(
        self, symbol: str, timeframe: str, version: str, ts_open: int
    ) -> StoredVector | None:
        ts = ns_to_datetime(ts_open)
        rows = await feature_rows.fetch_vectors(
            self._pool, symbol, timeframe, version, start=ts, end=ns_to_datetime(ts_open + 1000)
        )
        if not rows:
            return None
        found = rows[0]
        return StoredVector(
            symbol=found.symbol,
            timeframe=found.timeframe,
            ts_open=datetime_to_ns(found.ts),
            version=found.feature_set_version,
            values=tuple(found.values),
            source_event_id=str(found.source_event_id),
            event_id=str(found.event_id),
        )


class SqlBarHistory:
    """`BarHistory` over market.bars (prices become floats here: they feed statistics only)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def bars_before(self, symbol: str, timeframe: str, ts_open: int, limit: int) -> list[HistoryBar]:
        rows = await self._pool.fetch(
            "SELECT ts, open, high, low, close, volume FROM market.bars "
            "WHERE symbol = $1 AND timeframe = $2 AND ts < $3 ORDER BY ts DESC LIMIT $4",
            symbol,
            timeframe,
            ns_to_datetime(ts_open),
            limit,
        )
        return [
            HistoryBar(
                datetime_to_ns(r["ts"]),
                float(r["open"]),
                float(r["high"]),
                float(r["low"]),
                float(r["close"]),
                float(r["volume"]),
            )
            for r in reversed(rows)
        ]

    async def closes_from(self, symbol: str, timeframe: str, ts_open: int, limit: int) -> dict[int, float]:
        rows = await self._pool.fetch(
            "SELECT ts, close FROM market.bars WHERE symbol = $1 AND timeframe = $2 AND ts >= $3 "
            "ORDER BY ts LIMIT $4",
            symbol,
            timeframe,
            ns_to_datetime(ts_open),
            limit,
        )
        return {datetime_to_ns(r["ts"]): float(r["close"]) for r in rows}

    async def closes_between(self, symbol: str, timeframe: str, first: int, last: int) -> dict[int, float]:
        rows = await self._pool.fetch(
            "SELECT ts, close FROM market.bars WHERE symbol = $1 AND timeframe = $2 "
            "AND ts >= $3 AND ts <= $4 ORDER BY ts",
            symbol,
            timeframe,
            ns_to_datetime(first),
            ns_to_datetime(last),
        )
        return {datetime_to_ns(r["ts"]): float(r["close"]) for r in rows}
