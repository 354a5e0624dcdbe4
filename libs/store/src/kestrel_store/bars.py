"""Repository for ``market.bars``: bulk idempotent writes and range reads.

Every write is an upsert on ``(symbol, timeframe, ts)``, so a replayed or overlapping batch is
harmless. Large batches are COPYed into a transaction-scoped temporary table and upserted from there
(the staging step is what lets COPY be combined with ON CONFLICT); small ones — a live bar at a time —
go in one ``INSERT ... SELECT FROM unnest(...)`` statement, which skips the temporary table's fixed
cost. Both paths have the same semantics and are tested alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import asyncpg

from kestrel_contracts.decimals import from_wire
from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.v1.bar_pb2 import Bar as BarEvent
from kestrel_store.pool import acquired
from kestrel_store.timeseries import ensure_partitions_for

BAR_COLUMNS = ("symbol", "timeframe", "ts", "open", "high", "low", "close", "volume", "event_id")
_STAGE = "kestrel_bars_stage"
# Batches of at least this many bars use COPY; below it the temporary table costs more than it saves.
COPY_MIN_ROWS = 500

# ON COMMIT DROP: nothing outlives the batch even if the explicit DROP is never reached, so a pooled
# connection never carries a stale stage table into a later schema version.
_STAGE_DDL = f"""
CREATE TEMPORARY TABLE {_STAGE} (
    ord integer NOT NULL, symbol text NOT NULL, timeframe text NOT NULL, ts timestamptz NOT NULL,
    open numeric NOT NULL, high numeric NOT NULL, low numeric NOT NULL, close numeric NOT NULL,
    volume numeric NOT NULL, event_id uuid NOT NULL
) ON COMMIT DROP
"""

_UNNEST = """unnest($1::text[], $2::text[], $3::timestamptz[], $4::numeric[], $5::numeric[],
    $6::numeric[], $7::numeric[], $8::numeric[], $9::uuid[]) WITH ORDINALITY
    AS stage (symbol, timeframe, ts, open, high, low, close, volume, event_id, ord)"""

# DISTINCT ON keeps the LAST occurrence of a key within the batch: ON CONFLICT DO UPDATE may not touch
# the same row twice in one statement.
_UPSERT = """
INSERT INTO market.bars AS b (symbol, timeframe, ts, open, high, low, close, volume, event_id)
SELECT DISTINCT ON (symbol, timeframe, ts) symbol, timeframe, ts, open, high, low, close, volume, event_id
FROM {source}
ORDER BY symbol, timeframe, ts, ord DESC
ON CONFLICT (symbol, timeframe, ts) DO {action}
"""

_UPDATE_ACTION = """UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
    close = EXCLUDED.close, volume = EXCLUDED.volume, event_id = EXCLUDED.event_id, ingested_at = now()
WHERE (b.open, b.high, b.low, b.close, b.volume) IS DISTINCT FROM
      (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)"""

OnConflict = Literal["ignore", "update"]


@dataclass(frozen=True, slots=True)
class Bar:
    """A closed OHLCV bar; ``ts`` is its open time (timezone-aware)."""

    symbol: str
    timeframe: str
    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    event_id: UUID


def row_from_event(event: BarEvent) -> Bar:
    """The row of a `kestrel.v1.Bar` event: decimal strings parsed exactly, `ts` = the bar's open time."""
    return Bar(
        symbol=event.symbol,
        timeframe=event.timeframe,
        ts=ns_to_datetime(event.ts_open),
        open=from_wire(event.open),
        high=from_wire(event.high),
        low=from_wire(event.low),
        close=from_wire(event.close),
        volume=from_wire(event.volume),
        event_id=UUID(event.event_id),
    )


async def upsert_bars(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool,
    bars: Sequence[Bar],
    *,
    on_conflict: OnConflict = "ignore",
    ensure_partitions: bool = True,
) -> int:
    """Write ``bars``; return how many rows were inserted or changed.

    ``on_conflict="ignore"`` keeps the stored bar (replays are no-ops); ``"update"`` replaces it when
    its prices or volume differ (a corrected bar). With ``ensure_partitions`` the monthly partitions the
    batch needs are created first, in their own short transaction; without it, rows outside every
    partition go to the DEFAULT partition, which never fails. Pass a pool, or a connection that is not
    inside a transaction, so partition creation does not hold its locks for the caller's transaction.
    """
    if not bars:
        return 0
    action = _UPDATE_ACTION if on_conflict == "update" else "NOTHING"
    async with acquired(conn_or_pool) as conn:
        if ensure_partitions:
            await ensure_partitions_for(conn, "market.bars", [bar.ts for bar in bars])
        if len(bars) < COPY_MIN_ROWS:
            columns = [[getattr(bar, c) for bar in bars] for c in BAR_COLUMNS]
            status: str = await conn.execute(_UPSERT.format(source=_UNNEST, action=action), *columns)
        else:
            async with conn.transaction():
                await conn.execute(_STAGE_DDL)
                await conn.copy_records_to_table(
                    _STAGE,
                    records=[(i, *(getattr(bar, c) for c in BAR_COLUMNS)) for i, bar in enumerate(bars)],
                    columns=("ord", *BAR_COLUMNS),
                )
                status = await conn.execute(_UPSERT.format(source=_STAGE, action=action))
                # Dropped here too: inside a caller's transaction ON COMMIT DROP would come too late
                # for the next batch in that same transaction.
                await conn.execute(f"DROP TABLE {_STAGE}")
    # The command tag is "INSERT 0 <rows>".
    return int(status.rsplit(" ", 1)[1])


async def fetch_bars(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool,
    symbol: str,
    timeframe: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    limit: int | None = None,
    newest: bool = False,
) -> list[Bar]:
    """Bars of ``symbol``/``timeframe`` with ``start <= ts < end`` (either bound optional), oldest first;
    ``limit`` keeps the oldest ones, or with ``newest`` the newest ones (still returned oldest first)."""
    conditions = ["symbol = $1", "timeframe = $2"]
    args: list[object] = [symbol, timeframe]
    # Bounds are added only when given (not "$n IS NULL OR ..."), which keeps partition pruning working.
    if start is not None:
        args.append(start)
        conditions.append(f"ts >= ${len(args)}")
    if end is not None:
        args.append(end)
        conditions.append(f"ts < ${len(args)}")
    order = "DESC" if newest else "ASC"
    where = " AND ".join(conditions)
    query = f"SELECT {', '.join(BAR_COLUMNS)} FROM market.bars WHERE {where} ORDER BY ts {order}"
    if limit is not None:
        args.append(limit)
        query += f" LIMIT ${len(args)}"
    rows = await conn_or_pool.fetch(query, *args)
    bars = [Bar(**dict(row)) for row in rows]
    return bars[::-1] if newest else bars


async def latest_bar_ts(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool, symbol: str, timeframe: str
) -> datetime | None:
    """Open time of the newest stored bar (where a resumable backfill starts again), or None."""
    latest: datetime | None = await conn_or_pool.fetchval(
        "SELECT ts FROM market.bars WHERE symbol = $1 AND timeframe = $2 ORDER BY ts DESC LIMIT 1",
        symbol,
        timeframe,
    )
    return latest
