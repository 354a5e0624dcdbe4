"""The edges the handler talks to, as protocols: online store (Redis), offline store and bar history (SQL).

Each has a real adapter (`adapters/redis_online.py`, `adapters/sql.py`) and an in-memory fake
(`adapters/memory.py`); the online store's contract suite runs against both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SnapshotMarker:
    """Which definitions a symbol's state snapshot belongs to, and the open time of its last bar."""

    version: str
    ts_open: int


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """A symbol's streaming state as bytes, with the open time of the last bar it includes."""

    version: str
    ts_open: int
    bars_seen: int
    state: bytes

    @property
    def marker(self) -> SnapshotMarker:
        return SnapshotMarker(self.version, self.ts_open)


@dataclass(frozen=True, slots=True)
class OnlineVector:
    """The latest feature vector of a symbol as the online store serves it (NaN for undefined values)."""

    symbol: str
    timeframe: str
    version: str
    ts_open: int
    ts_event: int
    event_id: str
    source_bar_event_id: str
    close: str
    values: Mapping[str, float]


class OnlineStore(Protocol):
    """Latest vector per symbol plus each symbol's state snapshot, for one timeframe."""

    async def marker(self, symbol: str) -> SnapshotMarker | None:
        """The snapshot's version and position, without its (large) state bytes."""
        ...

    async def load_snapshot(self, symbol: str) -> StateSnapshot | None: ...

    async def commit(self, symbol: str, snapshot: StateSnapshot, vector: OnlineVector | None) -> bool:
        """Write the snapshot and (when given) the latest vector atomically, both or neither.

        Refused (False, nothing written) when the stored snapshot of the same version is already at
        or past `snapshot.ts_open`: a stale writer can never move a symbol back in time.
        """
        ...

    async def latest_vector(self, symbol: str) -> OnlineVector | None: ...


@dataclass(frozen=True, slots=True)
class StoredVector:
    """A row of the offline store: values in the feature set's order."""

    symbol: str
    timeframe: str
    ts_open: int
    version: str
    values: tuple[float, ...]
    source_event_id: str
    event_id: str


class OfflineStore(Protocol):
    async def register_feature_set(self, version: str, names: Sequence[str]) -> None:
        """Record the names of a feature-set version; an error if the version names other features."""
        ...

    async def insert_vector(self, row: StoredVector) -> bool:
        """Insert unless a vector for (symbol, timeframe, version, ts) exists; True when inserted."""
        ...

    async def insert_vectors(self, rows: Sequence[StoredVector]) -> int:
        """`insert_vector` for many rows in one statement; how many were inserted."""
        ...

    async def stored_vector(
        self, symbol: str, timeframe: str, version: str, ts_open: int
    ) -> StoredVector | None: ...


@dataclass(frozen=True, slots=True)
class HistoryBar:
    ts_open: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class BarHistory(Protocol):
    """Stored bars (market.bars): what a state is rebuilt from and where reference closes are found."""

    async def bars_before(self, symbol: str, timeframe: str, ts_open: int, limit: int) -> list[HistoryBar]:
        """The last `limit` bars strictly before `ts_open`, oldest first."""
        ...

    async def closes_from(self, symbol: str, timeframe: str, ts_open: int, limit: int) -> dict[int, float]:
        """Closes of up to `limit` bars at or after `ts_open`, by open time."""
        ...

    async def closes_between(self, symbol: str, timeframe: str, first: int, last: int) -> dict[int, float]:
        """Closes of the bars with `first <= ts_open <= last`, by open time."""
        ...
