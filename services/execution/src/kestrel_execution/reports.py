"""ExecutionReport messages built from order state (pure: no I/O).

A report's event_id is derived from (client_order_id, sequence), so a report re-published after a
crash is recognisably the same report downstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kestrel_contracts.decimals import to_wire, to_wire_optional
from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport, OrderStatus
from kestrel_contracts.v1.execution_report_pb2 import Fill as FillPb
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution.venue import Traded
from kestrel_trading.orders import Order


@dataclass(frozen=True, slots=True)
class OrderMeta:
    """What an order carries besides its trading state (copied from the request onto each report)."""

    client_order_id: str
    account: str
    strategy_id: str
    symbol: str
    venue: str
    timeframe: str
    broker: str
    request_event_id: str
    signal_event_id: str
    fee_asset: str  # the quote currency: what paper fees and every fill's quote-terms fee are in
    venue_order_id: str = ""  # the venue's id, once it acknowledged the order
    parent_client_order_id: str = ""  # a child order's parent (kestrel_execution.algorithms)


def report_event_id(client_order_id: str, sequence: int) -> str:
    return derived_event_id("execution-report", client_order_id, str(sequence))


def fee_asset_of(symbol: str, default: str) -> str:
    """The quote currency of "BASE/QUOTE" symbols, in which paper fees are charged."""
    base, _, quote = symbol.partition("/")
    return quote if base and quote else default


def _fill(traded: Traded) -> FillPb:
    """The fill as the venue charged it: its commission in the commission asset."""
    fill = traded.fill
    return FillPb(
        fill_id=fill.fill_id,
        ts_event=fill.ts_ns,
        price=to_wire(fill.price),
        quantity=to_wire(fill.quantity),
        fee=to_wire(traded.commission),
        fee_asset=traded.commission_asset,
        liquidity=fill.liquidity.value,
        venue_trade_id=traded.venue_trade_id,
    )


def order_report(
    meta: OrderMeta,
    order: Order,
    sequence: int,
    *,
    ts_event: int,
    fills: Sequence[Traded] = (),
    reason_text: str = "",
) -> ExecutionReport:
    """The report of an accepted order's state after a change (`order.reason`: ExecutionReason name)."""
    return ExecutionReport(
        event_id=report_event_id(meta.client_order_id, sequence),
        ts_event=ts_event,
        ts_init=now_ns(),
        client_order_id=meta.client_order_id,
        venue_order_id=meta.venue_order_id,
        account=meta.account,
        strategy_id=meta.strategy_id,
        symbol=meta.symbol,
        venue=meta.venue,
        side=order.side.value,
        order_type=order.order_type.value,
        status=order.status.value,
        quantity=to_wire(order.quantity),
        limit_price=to_wire_optional(order.limit_price),
        cumulative_quantity=to_wire(order.filled_quantity),
        leaves_quantity=to_wire(order.leaves_quantity),
        average_price=to_wire_optional(order.average_price),
        fills=[_fill(traded) for traded in fills],
        reason=order.reason or "EXECUTION_REASON_UNSPECIFIED",
        reason_text=reason_text,
        sequence=sequence,
        broker=meta.broker,
        order_event_id=meta.request_event_id,
        signal_event_id=meta.signal_event_id,
        parent_client_order_id=meta.parent_client_order_id,
    )


def rejection_report(
    request: OrderRequest, broker: str, reason: str, text: str, *, parent_client_order_id: str = ""
) -> ExecutionReport:
    """The one report of a rejected request: its fields as received, nothing filled."""
    return ExecutionReport(
        event_id=report_event_id(request.client_order_id, 1),
        ts_event=request.ts_event,
        ts_init=now_ns(),
        client_order_id=request.client_order_id,
        account=request.account,
        strategy_id=request.strategy_id,
        symbol=request.symbol,
        venue=request.venue,
        side=request.side,
        order_type=request.order_type,
        status=OrderStatus.ORDER_STATUS_REJECTED,
        quantity=request.quantity,
        limit_price=request.limit_price,
        cumulative_quantity="0",
        leaves_quantity="0",
        reason=reason,
        reason_text=text,
        sequence=1,
        broker=broker,
        order_event_id=request.event_id,
        signal_event_id=request.signal_event_id,
        parent_client_order_id=parent_client_order_id,
        algorithm=request.algorithm.algorithm,
    )
