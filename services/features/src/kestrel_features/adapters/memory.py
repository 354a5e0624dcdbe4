"""In-memory fakes of the service's edges, for unit tests and the handler's test harness.

`InMemoryOnlineStore` is held to the same contract suite as `RedisOnlineStore`
(tests/test_online_store_contract.py); values go through the same JSON codec so both read back alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kestrel_features.adapters.online_codec import decode_values, encode_values
from kestrel_features.ports import HistoryBar, OnlineVector, SnapshotMarker, StateSnapshot, StoredVector


class InMemoryOnlineStore:
    def __init__(self) -> None:
        self.snapshots: dict[str, StateSnapshot] = {}
        self._vectors: dict[str, tuple[OnlineVector, str]] = {}
        self.commits = 0

    async def marker(self, symbol: str) -> SnapshotMarker | None:
        found = self.snapshots.get(symbol)
        return None if found is None else found.marker

    async def load_snapshot(self, symbol: str) -> StateSnapshot | None:
        return self.snapshots.get(symbol)

    async def commit(self, symbol: str, snapshot: StateSnapshot, vector: OnlineVector | None) -> bool:
        current = self.snapshots.get(symbol)
        if (
            current is not None
            and current.version == snapshot.version
            and current.ts_open >= snapshot.ts_open
        ):
            return False
        self.snapshots[symbol] = snapshot
        if vector is not None:
            self._vectors[symbol] = (vector, encode_values(vector.values))
        self.commits += 1
        return True

    async def latest_vector(self, symbol: str) -> OnlineVector | None:
        found = self._vectors.get(symbol)
        if found is None:
            return None
        vector, encoded = found
        return OnlineVector(
            symbol=vector.symbol,
            timeframe=vector.timeframe,
            version=vector.version,
            ts_open=vector.ts_open,
            ts_event=vector.ts_event,
            event_id=vector.event_id,
            source_bar_event_id=vector.source_bar_event_id,
            close=vector.close,
            values=decode_values(encoded),
        )


@dataclass
class InMemoryOfflineStore:
    feature_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rows: dict[tuple[str, str, str, int], StoredVector] = field(default_factory=dict)
    insert_calls: int = 0

    async def register_feature_set(self, version: str, names: Sequence[str]) -> None:
        known = self.feature_sets.setdefault(version, tuple(names))
        if known != tuple(names):
            raise ValueError(f"feature set {version!r} is registered with other names")

    async def insert_vector(self, row: StoredVector) -> bool:
        self.insert_calls += 1
        key = (row.symbol, row.timeframe, row.version, row.ts_open)
        if key in self.rows:
            return False
        self.rows[key] = row
        return True

    async def insert_vectors(self, rows: Sequence[StoredVector]) -> int:
        self.insert_calls += 1
        fresh = [
            row for row in rows if (row.symbol, row.timeframe, row.version, row.ts_open) not in self.rows
        ]
        for row in fresh:
            self.rows[(row.symbol, row.timeframe, row.version, row.ts_open)] = row
        return len(fresh)

    async def stored_vector(
        self, symbol: str, timeframe: str, version: str, ts_open: int
    ) -> StoredVector | None:
        return self.rows.get((symbol, timeframe, version, ts_open))


@dataclass
class InMemoryBarHistory:
    """Stored bars by (symbol, timeframe), kept sorted by open time."""

    bars: dict[tuple[str, str], list[HistoryBar]] = field(default_factory=dict)

    def add(self, symbol: str, timeframe: str, bar: HistoryBar) -> None:
        series = self.bars.setdefault((symbol, timeframe), [])
        series.append(bar)
        series.sort(key=lambda b: b.ts_open)

    async def bars_before(self, symbol: str, timeframe: str, ts_open: int, limit: int) -> list[HistoryBar]:
        earlier = [b for b in self.bars.get((symbol, timeframe), []) if b.ts_open < ts_open]
        return earlier[-limit:] if limit > 0 else []

    async def closes_from(self, symbol: str, timeframe: str, ts_open: int, limit: int) -> dict[int, float]:
        later = [b for b in self.bars.get((symbol, timeframe), []) if b.ts_open >= ts_open][:limit]
        return {b.ts_open: b.close for b in later}

    async def closes_between(self, symbol: str, timeframe: str, first: int, last: int) -> dict[int, float]:
        return {
            b.ts_open: b.close for b in self.bars.get((symbol, timeframe), []) if first <= b.ts_open <= last
        }
