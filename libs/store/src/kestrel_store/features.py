"""The offline feature store: ``features.feature_sets`` and ``features.vectors``.

A feature-set version names its ordered features once; each vector row stores only the values, in
that order (``float8[]``: features are statistics, not money). Writes are idempotent on
``(symbol, timeframe, feature_set_version, ts)``: the first vector of a bar stays, a repeat is a no-op.
``ts`` is the source bar's open time, the same ``ts`` as in ``market.bars``, so features join bars on
``(symbol, timeframe, ts)``. Values round-trip exactly, NaN included (an undefined feature).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

from kestrel_store.pool import Queryable, acquired
from kestrel_store.timeseries import ensure_partitions_for

if TYPE_CHECKING:
    import pandas as pd

# Rows per INSERT statement: bounds the size of one statement's parameter arrays.
INSERT_CHUNK = 5_000


class FeatureSetMismatchError(ValueError):
    """A feature-set version is already registered with different feature names."""


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One stored feature vector; ``ts`` is the source bar's open time (timezone-aware)."""

    symbol: str
    timeframe: str
    ts: datetime
    feature_set_version: str
    values: Sequence[float]
    source_event_id: UUID
    event_id: UUID


async def register_feature_set(conn: Queryable, version: str, names: Sequence[str]) -> bool:
    """Record ``version``'s names; True when newly registered, False when already there with the same
    names. ``FeatureSetMismatchError`` when the version is registered with other names (a catalogue
    change that forgot to change its version)."""
    if not names:
        raise ValueError("a feature set needs at least one feature")
    status: str = await conn.execute(
        "INSERT INTO features.feature_sets (version, names) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
        version,
        list(names),
    )
    if status.endswith(" 1"):
        return True
    stored = await feature_set_names(conn, version)
    if stored != tuple(names):
        raise FeatureSetMismatchError(
            f"feature set {version!r} is registered with {len(stored or ())} other names; "
            "a changed catalogue needs a new version"
        )
    return False


async def feature_set_names(conn: Queryable, version: str) -> tuple[str, ...] | None:
    """The ordered feature names of ``version``, or None when it is not registered."""
    names: list[str] | None = await conn.fetchval(
        "SELECT names FROM features.feature_sets WHERE version = $1", version
    )
    return None if names is None else tuple(names)


def _float_array_literal(values: Sequence[float]) -> str:
    # repr() is the shortest text that reads back as the same double, and PostgreSQL's float8 input
    # takes it as is ('nan', 'inf' and '-inf' included), so the text path loses nothing.
    return "{" + ",".join(repr(float(v)) for v in values) + "}"


_INSERT = """
INSERT INTO features.vectors (symbol, timeframe, ts, feature_set_version, "values", source_event_id, event_id)
SELECT symbol, timeframe, ts, version, vals::float8[], source_event_id, event_id
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::uuid[], $7::uuid[])
    AS r (symbol, timeframe, ts, version, vals, source_event_id, event_id)
ON CONFLICT (symbol, timeframe, feature_set_version, ts) DO NOTHING
"""


async def insert_vectors(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool,
    rows: Sequence[FeatureRow],
    *,
    ensure_partitions: bool = True,
) -> int:
    """Insert ``rows``, skipping any whose (symbol, timeframe, version, ts) is stored; return how many
    were inserted. With ``ensure_partitions`` the partitions the rows need are created first (without,
    rows outside every partition land in the DEFAULT partition, which never fails)."""
    if not rows:
        return 0
    inserted = 0
    async with acquired(conn_or_pool) as conn:
        if ensure_partitions:
            await ensure_partitions_for(conn, "features.vectors", [row.ts for row in rows])
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            status: str = await conn.execute(
                _INSERT,
                [r.symbol for r in chunk],
                [r.timeframe for r in chunk],
                [r.ts for r in chunk],
                [r.feature_set_version for r in chunk],
                [_float_array_literal(r.values) for r in chunk],
                [r.source_event_id for r in chunk],
                [r.event_id for r in chunk],
            )
            inserted += int(status.rsplit(" ", 1)[1])  # "INSERT 0 <rows>"
    return inserted


async def fetch_vectors(
    conn: Queryable,
    symbol: str,
    timeframe: str,
    version: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[FeatureRow]:
    """Stored vectors of one series and version with ``start <= ts < end`` (bounds optional), oldest first."""
    conditions = ["symbol = $1", "timeframe = $2", "feature_set_version = $3"]
    args: list[object] = [symbol, timeframe, version]
    if start is not None:
        args.append(start)
        conditions.append(f"ts >= ${len(args)}")
    if end is not None:
        args.append(end)
        conditions.append(f"ts < ${len(args)}")
    rows = await conn.fetch(
        'SELECT symbol, timeframe, ts, feature_set_version, "values", source_event_id, event_id '
        f"FROM features.vectors WHERE {' AND '.join(conditions)} ORDER BY ts",
        *args,
    )
    return [FeatureRow(**dict(row)) for row in rows]


async def fetch_feature_frame(
    conn: Queryable, symbol: str, timeframe: str, start: datetime, end: datetime, *, version: str
) -> pd.DataFrame:
    """Features of ``symbol``/``timeframe`` with ``start <= ts < end`` as a frame for training.

    Index ``ts`` (the bars' open times, UTC, ascending), one float64 column per feature in the feature
    set's order, NaN where a feature is undefined. ``LookupError`` for an unregistered version.
    """
    import numpy as np  # noqa: PLC0415 - the store's other users never need numpy/pandas
    import pandas as pd  # noqa: PLC0415

    names = await feature_set_names(conn, version)
    if names is None:
        raise LookupError(f"feature-set version {version!r} is not registered")
    rows = await fetch_vectors(conn, symbol, timeframe, version, start=start, end=end)
    ragged = [row.ts for row in rows if len(row.values) != len(names)]
    if ragged:
        raise ValueError(f"{len(ragged)} vector(s) of {version!r} do not have its {len(names)} values")
    index = pd.DatetimeIndex([row.ts for row in rows], name="ts", tz="UTC")
    data = np.array([row.values for row in rows], dtype=np.float64).reshape(len(rows), len(names))
    return pd.DataFrame(data, index=index, columns=list(names))


_BEFORE = """
WITH me AS (
    SELECT ts FROM features.vectors
    WHERE source_event_id = $1 AND symbol = $2 AND timeframe = $3 AND feature_set_version = $4
    LIMIT 1
)
SELECT me.ts AS own_ts, earlier."values"
FROM me LEFT JOIN LATERAL (
    SELECT v.ts, v."values" FROM features.vectors v
    WHERE v.symbol = $2 AND v.timeframe = $3 AND v.feature_set_version = $4 AND v.ts < me.ts
    ORDER BY v.ts DESC
    LIMIT $5
) earlier ON true
ORDER BY earlier.ts
"""


async def fetch_values_before(
    conn: Queryable, source_event_id: UUID, *, symbol: str, timeframe: str, version: str, limit: int
) -> list[tuple[float, ...]] | None:
    """The values of the ``limit`` stored vectors of the series before the one computed from bar
    ``source_event_id``, oldest first (fewer at the series' start); None when that vector itself is
    not stored, so its place in the series is unknown."""
    rows = await conn.fetch(_BEFORE, source_event_id, symbol, timeframe, version, limit)
    if not rows:
        return None
    return [tuple(row["values"]) for row in rows if row["values"] is not None]
