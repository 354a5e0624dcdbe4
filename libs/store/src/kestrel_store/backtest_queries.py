"""``backtest.*`` reads: what the gateway and the CLI show of runs (status, metrics, trades, equity,
reports). Rows come back as plain dicts of JSON-ready values; money stays decimal text."""

from __future__ import annotations

from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

# A pool or one connection (inside a caller's transaction).
Db: TypeAlias = asyncpg.Pool | asyncpg.Connection

_RUN_COLUMNS = """run_id, status, mode, strategy, strategy_id, parameters, symbols, timeframe, start_ts,
    end_ts, spec, metrics, money, progress, bars_processed, error_type, error, submitted_by, worker,
    attempts, created_at, started_at, finished_at"""

_TABLES = {
    "fills": ("seq", "ts, symbol, side, quantity, price, fee, client_order_id"),
    "trades": (
        "seq",
        "symbol, direction, status, entry_ts, exit_ts, size, entry_price, exit_price, fees, pnl, return",
    ),
    "rejections": ("seq", "ts, symbol, action, reason, detail"),
    "equity": ("ts", "ts, equity, benchmark, drawdown"),
}


async def get_run(db: Db, run_id: UUID) -> dict[str, Any] | None:
    row = await db.fetchrow(f"SELECT {_RUN_COLUMNS} FROM backtest.runs WHERE run_id = $1", run_id)
    return dict(row) if row is not None else None


async def list_runs(
    db: Db,
    *,
    strategy: str | None = None,
    status: str | None = None,
    symbol: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Newest first, optionally only one strategy's, one status's or those trading one symbol."""
    conditions, args = [], list[object]()
    for column, value in (("strategy", strategy), ("status", status)):
        if value is not None:
            args.append(value)
            conditions.append(f"{column} = ${len(args)}")
    if symbol is not None:
        args.append(symbol)
        conditions.append(f"${len(args)} = ANY(symbols)")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    args += [limit, offset]
    query = (
        f"SELECT {_RUN_COLUMNS} FROM backtest.runs {where} "
        f"ORDER BY created_at DESC, run_id LIMIT ${len(args) - 1} OFFSET ${len(args)}"
    )
    return [dict(r) for r in await db.fetch(query, *args)]


async def run_rows(db: Db, run_id: UUID, table: str, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Rows of one of a run's child tables (fills, trades, rejections, equity), in their order."""
    order, columns = _TABLES[table]
    rows = await db.fetch(
        f"SELECT {columns} FROM backtest.{table} WHERE run_id = $1 ORDER BY {order} LIMIT $2 OFFSET $3",
        run_id,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def run_report(db: Db, run_id: UUID, fmt: str) -> tuple[str, bytes] | None:
    """The stored report of ``run_id`` in ``fmt``: (media type, bytes), or None."""
    row = await db.fetchrow(
        "SELECT media_type, content FROM backtest.reports WHERE run_id = $1 AND format = $2", run_id, fmt
    )
    return (row["media_type"], bytes(row["content"])) if row is not None else None


async def report_formats(db: Db, run_id: UUID) -> list[str]:
    rows = await db.fetch("SELECT format FROM backtest.reports WHERE run_id = $1 ORDER BY format", run_id)
    return [r["format"] for r in rows]
