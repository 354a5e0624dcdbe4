"""Read-only queries behind the REST endpoints (PostgreSQL: market.bars, trading.*)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg

from kestrel_store.bars import BAR_COLUMNS, fetch_bars

__all__ = ["bars", "orders_with_fills", "risk_decisions", "signals", "summary"]

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


class _Where:
    """Builds `WHERE a = $1 AND b = $2`, adding only the filters that were given."""

    def __init__(self) -> None:
        self.args: list[Any] = []
        self._parts: list[str] = []

    def eq(self, column: str, value: Any) -> _Where:
        if value is not None:
            self.args.append(value)
            self._parts.append(f"{column} = ${len(self.args)}")
        return self

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def __str__(self) -> str:
        return f"WHERE {' AND '.join(self._parts)}" if self._parts else ""


async def bars(
    db: Db, symbol: str, timeframe: str, *, start: datetime | None, end: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Oldest first. With `start`: the first `limit` bars from there; without: the latest `limit`."""
    if start is not None:
        found = await fetch_bars(db, symbol, timeframe, start, end, limit=limit)
        return [{c: getattr(bar, c) for c in BAR_COLUMNS} for bar in found]
    where = _Where().eq("symbol", symbol).eq("timeframe", timeframe)
    end_filter = f" AND ts < {where.arg(end)}" if end is not None else ""
    rows = await db.fetch(
        f"SELECT {', '.join(BAR_COLUMNS)} FROM market.bars {where}{end_filter} "
        f"ORDER BY ts DESC LIMIT {where.arg(limit)}",
        *where.args,
    )
    return [dict(row) for row in reversed(rows)]


async def signals(db: Db, symbol: str | None, limit: int) -> list[dict[str, Any]]:
    where = _Where().eq("symbol", symbol)
    rows = await db.fetch(
        "SELECT event_id, ts, symbol, venue, timeframe, strategy_id, model_name, model_version, action, "
        f"confidence, probabilities, reference_price FROM trading.signals {where} "
        f"ORDER BY ts DESC LIMIT {where.arg(limit)}",
        *where.args,
    )
    return [dict(row) for row in rows]


_ORDER_COLUMNS = (
    "order_id, client_order_id, account, strategy_id, symbol, side, order_type, time_in_force, quantity, "
    "limit_price, status, filled_quantity, average_fill_price, fees, reject_reason, reason_code, venue, "
    "venue_order_id, timeframe, signal_event_id, ts_event, created_at, updated_at, parent_client_order_id"
)
_PARENT_COLUMNS = (
    "client_order_id, account, strategy_id, symbol, side, order_type, quantity, limit_price, algorithm, "
    "duration_ns, slices, display_quantity, arrival_price, status, filled_quantity, fees, reason_code, "
    "reason_text, created_at, updated_at, "
    "CASE WHEN filled_quantity > 0 THEN filled_notional / filled_quantity END AS average_fill_price, "
    # Positive: the fills were worse for the trader than the arrival price (bought above, sold below).
    "CASE WHEN filled_quantity > 0 AND arrival_price > 0 THEN round((filled_notional / filled_quantity "
    "- arrival_price) / arrival_price * 10000 * CASE side WHEN 'BUY' THEN 1 ELSE -1 END, 2) END"
    " AS slippage_bps"
)


async def parent_orders(
    db: Db, symbol: str | None, status: str | None, limit: int, account: str | None = None
) -> list[dict[str, Any]]:
    """Parent orders newest first, each with its children's ids and its slippage vs arrival (bps)."""
    where = _Where().eq("symbol", symbol).eq("status", status).eq("account", account)
    rows = await db.fetch(
        f"SELECT {_PARENT_COLUMNS} FROM trading.parent_orders {where} "
        f"ORDER BY created_at DESC, client_order_id LIMIT {where.arg(limit)}",
        *where.args,
    )
    parents = [{**dict(row), "children": []} for row in rows]
    if parents:
        by_id = {parent["client_order_id"]: parent for parent in parents}
        children = await db.fetch(
            "SELECT parent_client_order_id, client_order_id FROM trading.orders "
            "WHERE parent_client_order_id = ANY($1::text[]) ORDER BY created_at, client_order_id",
            list(by_id),
        )
        for child in children:
            by_id[child["parent_client_order_id"]]["children"].append(child["client_order_id"])
    return parents


async def orders_with_fills(
    db: Db, symbol: str | None, status: str | None, limit: int, account: str | None = None
) -> list[dict[str, Any]]:
    """Newest first, each with its fills (oldest first)."""
    where = _Where().eq("symbol", symbol).eq("status", status).eq("account", account)
    rows = await db.fetch(
        f"SELECT {_ORDER_COLUMNS} FROM trading.orders {where} "
        f"ORDER BY created_at DESC, order_id LIMIT {where.arg(limit)}",
        *where.args,
    )
    orders = [{**dict(row), "fills": []} for row in rows]
    if orders:
        by_id = {order["order_id"]: order for order in orders}
        fills = await db.fetch(
            "SELECT order_id, trade_id, ts, side, quantity, price, fee, fee_asset, liquidity "
            "FROM trading.fills WHERE order_id = ANY($1::uuid[]) ORDER BY ts, trade_id",
            list(by_id),
        )
        for fill in fills:
            by_id[fill["order_id"]]["fills"].append({k: v for k, v in dict(fill).items() if k != "order_id"})
    return orders


async def risk_decisions(
    db: Db,
    *,
    symbol: str | None,
    outcome: str | None,
    client_order_id: str | None,
    account: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    where = (
        _Where()
        .eq("symbol", symbol)
        .eq("outcome", outcome)
        .eq("client_order_id", client_order_id)
        .eq("account", account)
    )
    rows = await db.fetch(
        "SELECT event_id, ts, client_order_id, signal_event_id, account, strategy_id, symbol, side, "
        "outcome, reason, reason_text, quantity, reference_price, notional, origin, checks "
        f"FROM trading.risk_decisions {where} ORDER BY ts DESC LIMIT {where.arg(limit)}",
        *where.args,
    )
    return [dict(row) for row in rows]


async def _grouped(db: Db, sql: str) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in await db.fetch(sql)}


async def summary(db: Db) -> dict[str, Any]:
    """What the platform did, in counts (GET /api/metrics)."""
    fees = await db.fetch("SELECT fee_asset, sum(fee) AS fees FROM trading.fills GROUP BY 1 ORDER BY 1")
    fees_by_asset: dict[str, Decimal] = {row["fee_asset"]: row["fees"] for row in fees}
    return {
        "bars": await _grouped(db, "SELECT symbol, count(*) FROM market.bars GROUP BY 1 ORDER BY 1"),
        "signals": await _grouped(db, "SELECT action, count(*) FROM trading.signals GROUP BY 1 ORDER BY 1"),
        "risk_decisions": await _grouped(
            db, "SELECT outcome, count(*) FROM trading.risk_decisions GROUP BY 1 ORDER BY 1"
        ),
        "rejections_by_reason": await _grouped(
            db,
            "SELECT reason, count(*) FROM trading.risk_decisions WHERE outcome = 'REJECTED' "
            "GROUP BY 1 ORDER BY 2 DESC, 1",
        ),
        "orders_by_status": await _grouped(
            db, "SELECT status, count(*) FROM trading.orders GROUP BY 1 ORDER BY 1"
        ),
        "fills": int(await db.fetchval("SELECT count(*) FROM trading.fills")),
        "fees_by_asset": fees_by_asset,
    }
