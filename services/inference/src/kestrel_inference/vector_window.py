"""The last vectors of each symbol, for a sequence model (one whose input holds ``window`` bars).

A symbol's window is kept in memory while vectors arrive in order, and rebuilt from the offline
store (``features.vectors``: the features service stores a vector before publishing it) when this
process first sees the symbol, when a vector arrives that is not after the last one (a redelivery or
replay), or when a model needs a longer window. The store lookup starts from the vector's own stored
row and reads only what lies before it, so a window never holds anything from the vector's future.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_messaging import PermanentError
from kestrel_store.features import feature_set_names, fetch_values_before
from kestrel_store.pool import create_pool

Values = Mapping[str, float]
# (vector, how many before it) -> the stored vectors before it, oldest first; None: it is not stored.
History = Callable[[FeatureVector, int], Awaitable[Sequence[Values] | None]]


class VectorNotStoredError(RuntimeError):
    """Transient: the vector's own row is not in the store yet, so what precedes it is unknown."""


@dataclass
class _Window:
    values: deque[Values]  # maxlen: how many vectors before the scored one it holds
    last_ts_event: int = -1


class VectorWindows:
    def __init__(self, history: History) -> None:
        self._history = history
        self._windows: dict[tuple[str, str, str], _Window] = {}

    async def before(self, vector: FeatureVector, size: int) -> list[Values]:
        """The symbol's last ``size`` vectors before ``vector``, oldest first."""
        key = (vector.symbol, vector.timeframe, vector.feature_set_version)
        window = self._windows.get(key)
        if window is None or vector.ts_event <= window.last_ts_event or (window.values.maxlen or 0) < size:
            stored = await self._history(vector, size)
            if stored is None:
                raise VectorNotStoredError(
                    f"vector of bar {vector.source_bar_event_id} ({vector.symbol}) is not in the store yet"
                )
            window = _Window(deque(stored, maxlen=size))
            self._windows[key] = window
        return list(window.values)[-size:] if size else []

    def remember(self, vector: FeatureVector) -> None:
        """``vector`` was scored: it is the newest of its symbol's window."""
        window = self._windows.get((vector.symbol, vector.timeframe, vector.feature_set_version))
        if window is not None:
            window.values.append(dict(vector.values))
            window.last_ts_event = vector.ts_event


class StoreVectorHistory:
    """``History`` from PostgreSQL; the pool opens on first use (a tabular model never needs it)."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._pool: asyncpg.Pool | None = None
        self._names: dict[str, tuple[str, ...]] = {}
        self._lock = asyncio.Lock()

    async def _ready(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(
                    self._url, application_name="kestrel-inference-windows", min_size=1, max_size=2
                )
            return self._pool

    async def __call__(self, vector: FeatureVector, size: int) -> Sequence[Values] | None:
        pool = await self._ready()
        version = vector.feature_set_version
        if version not in self._names:
            names = await feature_set_names(pool, version)
            if names is None:
                raise PermanentError(f"feature-set version {version!r} is not registered in the store")
            self._names[version] = names
        try:
            bar_id = UUID(vector.source_bar_event_id)
        except ValueError:
            raise PermanentError(f"vector {vector.event_id} has no valid source bar id") from None
        rows = await fetch_values_before(
            pool, bar_id, symbol=vector.symbol, timeframe=vector.timeframe, version=version, limit=size
        )
        if rows is None:
            return None
        names = self._names[version]
        return [dict(zip(names, values, strict=True)) for values in rows]

    async def close(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.close()
