"""New orders into trading.orders: accepted and rejected requests as rows, many in one statement.

One INSERT ... SELECT FROM unnest(...) stores a whole intake batch and says which rows were new
(ON CONFLICT DO NOTHING skips a client order id stored before: a redelivery), so a batch costs one
round trip however many orders it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg

from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.v1.common_pb2 import Side as SidePb
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_contracts.v1.order_request_pb2 import OrderType as OrderTypePb
from kestrel_contracts.v1.order_request_pb2 import TimeInForce as TimeInForcePb
from kestrel_execution.reports import OrderMeta
from kestrel_execution.store import request_event_uuid, uuid_or_none
from kestrel_execution.venue import VenueState
from kestrel_trading.paper import WorkingOrder

Row = tuple[Any, ...]
_COLUMNS = (
    ("client_order_id", "text"), ("account", "text"), ("strategy_id", "text"), ("symbol", "text"),
    ("venue", "text"), ("timeframe", "text"), ("broker", "text"), ("side", "text"),
    ("order_type", "text"), ("time_in_force", "text"), ("quantity", "numeric"),
    ("limit_price", "numeric"), ("status", "text"), ("reason_code", "text"), ("reject_reason", "text"),
    ("request_event_id", "uuid"), ("signal_event_id", "uuid"), ("ts_event", "timestamptz"),
    ("expire_at_ns", "bigint"), ("submitted_at_ns", "bigint"), ("venue_state", "text"),
    ("parent_client_order_id", "text"),
)  # fmt: skip
_NAMES = ", ".join(name for name, _ in _COLUMNS)
_INSERT = (
    f"INSERT INTO trading.orders ({_NAMES}, report_sequence) "
    f"SELECT {_NAMES}, 1 FROM unnest("
    + ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(_COLUMNS, start=1))
    + f") AS r({_NAMES}) ON CONFLICT (client_order_id) DO NOTHING RETURNING client_order_id, order_id"
)


def accepted_row(meta: OrderMeta, working: WorkingOrder, request: OrderRequest) -> Row:
    """A NEW order, PENDING at the venue until it answers."""
    order = working.order
    return (
        meta.client_order_id, meta.account, meta.strategy_id, meta.symbol, meta.venue, meta.timeframe,
        meta.broker, order.side.name, order.order_type.name, order.time_in_force.name, order.quantity,
        order.limit_price, order.status.name, "", None, meta.request_event_id,
        uuid_or_none(meta.signal_event_id), ns_to_datetime(request.ts_event), order.expire_at_ns,
        working.submitted_at_ns, VenueState.PENDING.value, meta.parent_client_order_id or None,
    )  # fmt: skip


def _maybe_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def rejected_row(
    request: OrderRequest,
    *,
    broker: str,
    timeframe: str,
    reason: str,
    text: str,
    parent_client_order_id: str = "",
) -> Row:
    """A REJECTED request with whatever of it is readable (it never reached a venue)."""
    side = SidePb.Name(request.side).removeprefix("SIDE_") if request.side else None
    order_type = (
        OrderTypePb.Name(request.order_type).removeprefix("ORDER_TYPE_") if request.order_type else None
    )
    tif = (
        TimeInForcePb.Name(request.time_in_force).removeprefix("TIME_IN_FORCE_")
        if request.time_in_force
        else "GTC"
    )
    limit = _maybe_decimal(request.limit_price) if request.limit_price else None
    quantity = _maybe_decimal(request.quantity)
    quantity = quantity if quantity is not None and quantity >= 0 else None  # 0 <= filled <= quantity
    return (
        request.client_order_id, request.account, request.strategy_id, request.symbol, request.venue,
        timeframe, broker, side, order_type, tif, quantity,
        limit if limit is not None and limit > 0 else None, "REJECTED", reason, text,
        request_event_uuid(request), uuid_or_none(request.signal_event_id),
        ns_to_datetime(request.ts_event), request.expire_at_ns or None, request.ts_event,
        VenueState.ACKED.value, parent_client_order_id or None,
    )  # fmt: skip


async def insert_orders(conn: asyncpg.Connection, rows: Sequence[Row]) -> dict[str, Any]:
    """Store the rows; the order_id of each one that was new, by client order id."""
    if not rows:
        return {}
    columns = [list(column) for column in zip(*rows, strict=True)]
    inserted = await conn.fetch(_INSERT, *columns)
    return {row["client_order_id"]: row["order_id"] for row in inserted}
