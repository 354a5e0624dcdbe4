"""Writes trade prints into `market.ticks`: one bulk INSERT per batch, idempotent on the primary key.

A trade is immutable once printed, so a replayed tick (same symbol, trade id and time) is ignored
rather than updated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from kestrel_store.timeseries import ensure_partitions_for

_INSERT = """
INSERT INTO market.ticks (symbol, trade_id, ts, price, quantity, side, event_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::numeric[], $5::numeric[],
    $6::text[], $7::uuid[])
ON CONFLICT (symbol, trade_id, ts) DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class TickRow:
    symbol: str
    trade_id: str
    ts: datetime  # timezone-aware
    price: Decimal
    quantity: Decimal
    side: str | None  # "BUY" / "SELL": the aggressor's side
    event_id: str


async def insert_ticks(pool: asyncpg.Pool, rows: Sequence[TickRow]) -> int:
    """Store `rows`; returns how many were new."""
    if not rows:
        return 0
    async with pool.acquire() as conn:
        # Partitions are created outside the insert's transaction, as the store requires.
        await ensure_partitions_for(conn, "market.ticks", (r.ts for r in rows))
        status: str = await conn.execute(
            _INSERT,
            [r.symbol for r in rows],
            [r.trade_id for r in rows],
            [r.ts for r in rows],
            [r.price for r in rows],
            [r.quantity for r in rows],
            [r.side for r in rows],
            [UUID(r.event_id) for r in rows],
        )
    return int(status.rsplit(" ", 1)[-1])  # "INSERT 0 <count>"
