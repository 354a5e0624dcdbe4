"""What reconciliation reads and writes in PostgreSQL: Kestrel's holdings per base asset, from its
own fills, and the per-asset baselines (trading.venue_baselines)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import asyncpg

from kestrel_execution.reconcile import Holding

_HOLDINGS = """
SELECT o.symbol,
       sum(CASE WHEN f.side = 'BUY' THEN f.quantity ELSE -f.quantity END) AS net,
       sum(CASE WHEN f.fee_asset = b.base THEN f.fee ELSE 0 END) AS commission
FROM trading.fills f
JOIN trading.orders o ON o.order_id = f.order_id
JOIN unnest($2::text[], $3::text[]) AS b(symbol, base) ON b.symbol = o.symbol
WHERE o.broker = $1
GROUP BY o.symbol
"""


async def traded_symbols(conn: asyncpg.Pool | asyncpg.Connection, broker: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT symbol FROM trading.orders WHERE broker = $1 AND filled_quantity > 0 ORDER BY 1",
        broker,
    )
    return [row["symbol"] for row in rows]


async def holdings(
    conn: asyncpg.Pool | asyncpg.Connection, broker: str, base_assets: Mapping[str, str]
) -> dict[str, Holding]:
    """Per base asset: Kestrel's net filled quantity at `broker` and the commissions paid in it."""
    symbols = list(base_assets)
    rows = await conn.fetch(_HOLDINGS, broker, symbols, [base_assets[s] for s in symbols])
    net: dict[str, Decimal] = {}
    paid: dict[str, Decimal] = {}
    for row in rows:
        asset = base_assets[row["symbol"]]
        net[asset] = net.get(asset, Decimal(0)) + row["net"]
        paid[asset] = paid.get(asset, Decimal(0)) + row["commission"]
    return {asset: Holding(net[asset], paid[asset]) for asset in net}


async def baselines(conn: asyncpg.Pool | asyncpg.Connection, broker: str) -> dict[str, Decimal]:
    rows = await conn.fetch("SELECT asset, quantity FROM trading.venue_baselines WHERE broker = $1", broker)
    return {row["asset"]: row["quantity"] for row in rows}


async def add_baselines(
    conn: asyncpg.Pool | asyncpg.Connection, broker: str, found: Mapping[str, Decimal]
) -> None:
    """Record first-seen baselines; one recorded before (another replica) is kept."""
    await conn.executemany(
        "INSERT INTO trading.venue_baselines (broker, asset, quantity) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        [(broker, asset, quantity) for asset, quantity in found.items()],
    )
