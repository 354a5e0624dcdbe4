"""trading.parent_orders and the children linked to them (SQL; amounts NUMERIC <-> Decimal).

A parent's row is written twice over its life at most per change: inserted with its NEW report,
then updated from the sequence it was read at (`save_parents`), so of two replicas settling the same
parent one wins and the other's report is never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg

from kestrel_contracts.events import datetime_to_ns
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_execution.algorithms import Algorithm, AlgoSpec, Child, ParentOrder, child_index
from kestrel_execution.reports import OrderMeta
from kestrel_execution.store import order_from_row, uuid_or_none
from kestrel_store.timeseries import timeframe_to_interval
from kestrel_trading.orders import OrderStatus

Pair = tuple[ParentOrder, ExecutionReport]  # a parent's new state and the report that says it
_INSERT = """
INSERT INTO trading.parent_orders (
    client_order_id, account, strategy_id, symbol, venue, timeframe, broker, side, order_type,
    time_in_force, quantity, limit_price, expire_at_ns, algorithm, duration_ns, slices,
    display_quantity, arrival_ns, arrival_price, request_event_id, signal_event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
ON CONFLICT (client_order_id) DO NOTHING RETURNING client_order_id
"""
_UPDATE = """
UPDATE trading.parent_orders SET status = $2, filled_quantity = $3, filled_notional = $4, fees = $5,
    reason_code = $6, reason_text = $7, report_sequence = $8, updated_at = now()
WHERE client_order_id = $1 AND report_sequence = $8 - 1 RETURNING client_order_id
"""
_CHILDREN = """
SELECT parent_client_order_id, client_order_id, quantity, filled_quantity, filled_notional, fees,
       status, reason_code
FROM trading.orders WHERE parent_client_order_id = ANY($1::text[])
"""


def _algorithm_name(spec: AlgoSpec) -> str:
    return spec.algorithm.value.removeprefix("EXECUTION_ALGORITHM_")


async def insert_parents(conn: asyncpg.Connection, parents: Sequence[ParentOrder]) -> set[str]:
    """Store new parents; the client order ids that were new (a redelivery is skipped)."""
    new: set[str] = set()
    for p in parents:
        m, o, spec = p.meta, p.order, p.spec
        row = await conn.fetchrow(
            _INSERT, m.client_order_id, m.account, m.strategy_id, m.symbol, m.venue, m.timeframe,
            m.broker, o.side.name, o.order_type.name, o.time_in_force.name, o.quantity, o.limit_price,
            o.expire_at_ns, _algorithm_name(spec), spec.duration_ns, spec.slices, spec.display_quantity,
            p.arrival_ns, p.arrival_price, m.request_event_id, uuid_or_none(m.signal_event_id),
        )  # fmt: skip
        if row is not None:
            new.add(m.client_order_id)
    return new


def _parent(row: asyncpg.Record, fee_asset: str) -> ParentOrder:
    order = order_from_row(row)
    meta = OrderMeta(
        client_order_id=row["client_order_id"], account=row["account"], strategy_id=row["strategy_id"],
        symbol=row["symbol"], venue=row["venue"], timeframe=row["timeframe"], broker=row["broker"],
        request_event_id=str(row["request_event_id"]), signal_event_id=str(row["signal_event_id"] or ""),
        fee_asset=fee_asset,
    )  # fmt: skip
    spec = AlgoSpec(
        Algorithm(f"EXECUTION_ALGORITHM_{row['algorithm']}"),
        duration_ns=row["duration_ns"],
        slices=row["slices"],
        display_quantity=row["display_quantity"],
    )
    return ParentOrder(
        meta, order, spec, row["arrival_ns"], row["arrival_price"], row["report_sequence"], row["reason_text"]
    )


async def open_parents(
    conn: asyncpg.Connection | asyncpg.Pool, broker: str, fee_asset: Callable[[str], str]
) -> list[ParentOrder]:
    rows = await conn.fetch(
        "SELECT * FROM trading.parent_orders WHERE broker = $1 AND status IN ('NEW', 'PARTIALLY_FILLED') "
        "ORDER BY created_at, client_order_id LIMIT 1000",
        broker,
    )
    return [_parent(row, fee_asset(row["symbol"])) for row in rows]


async def parent_order(
    conn: asyncpg.Connection | asyncpg.Pool, client_order_id: str, fee_asset: Callable[[str], str]
) -> ParentOrder | None:
    row = await conn.fetchrow(
        "SELECT * FROM trading.parent_orders WHERE client_order_id = $1", client_order_id
    )
    return _parent(row, fee_asset(row["symbol"])) if row is not None else None


async def children(
    conn: asyncpg.Connection | asyncpg.Pool, parent_ids: Sequence[str]
) -> dict[str, list[Child]]:
    """Every child of each parent (any status), by index."""
    found: dict[str, list[Child]] = {parent_id: [] for parent_id in parent_ids}
    for r in await conn.fetch(_CHILDREN, list(parent_ids)):
        parent_id = r["parent_client_order_id"]
        found[parent_id].append(
            Child(
                index=child_index(parent_id, r["client_order_id"]),
                quantity=r["quantity"],
                filled_quantity=r["filled_quantity"],
                filled_notional=r["filled_notional"],
                fees=r["fees"],
                status=OrderStatus[r["status"]],
                reason=r["reason_code"] or "",
            )
        )
    for kids in found.values():
        kids.sort(key=lambda child: child.index)
    return found


async def update_parents(conn: asyncpg.Connection, parents: Sequence[Pair]) -> list[Pair]:
    """Write each parent's new state where nobody wrote it first; the (parent, report) pairs written."""
    saved: list[Pair] = []
    for pair in parents:
        p = pair[0]
        o = p.order
        row = await conn.fetchrow(
            _UPDATE, p.meta.client_order_id, o.status.name, o.filled_quantity, o.filled_notional, o.fees,
            o.reason, p.reason_text, p.sequence,
        )  # fmt: skip
        if row is not None:
            saved.append(pair)
    return saved


async def market_time_ns(conn: asyncpg.Connection | asyncpg.Pool, symbol: str, timeframe: str) -> int | None:
    """The close of the latest stored bar of the market: how far its market clock has come."""
    ts = await conn.fetchval(
        "SELECT max(ts) + $3::text::interval FROM market.bars WHERE symbol = $1 AND timeframe = $2",
        symbol,
        timeframe,
        timeframe_to_interval(timeframe),
    )
    return datetime_to_ns(ts) if ts is not None else None
