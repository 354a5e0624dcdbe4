"""OrderRequest -> an accepted `Order`, or a rejection with its ExecutionReason (pure: no I/O).

A request is never dropped for bad content: what cannot become an `Order` (no side, no type, a zero
or unparseable quantity, an unknown symbol) or breaks the symbol's exchange filters is REJECTED with
the matching reason and a human-readable text, stored and reported like any other order. Only a
request without a client_order_id has no identity to store under; the handler dead-letters it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kestrel_contracts.decimals import from_wire
from kestrel_contracts.events import is_event_id
from kestrel_contracts.v1.common_pb2 import Side as SidePb
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_contracts.v1.order_request_pb2 import OrderType as OrderTypePb
from kestrel_contracts.v1.order_request_pb2 import TimeInForce as TimeInForcePb
from kestrel_platform.control import RUNNING, Effective
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Side
from kestrel_trading.instruments import FilterCode, FilterViolation
from kestrel_trading.orders import Order, OrderType, TimeInForce

MALFORMED = "EXECUTION_REASON_MALFORMED_ORDER"
UNKNOWN_SYMBOL = "EXECUTION_REASON_UNKNOWN_SYMBOL"
INVALID_QUANTITY = "EXECUTION_REASON_INVALID_QUANTITY"
INVALID_PRICE = "EXECUTION_REASON_INVALID_PRICE"
MIN_NOTIONAL = "EXECUTION_REASON_MIN_NOTIONAL"
KILL_SWITCH = "EXECUTION_REASON_KILL_SWITCH"
TRADING_HALTED = "EXECUTION_REASON_TRADING_HALTED"  # the production controller: execution not running

_FILTER_REASONS = {
    FilterCode.PRICE_FILTER: INVALID_PRICE,
    FilterCode.LOT_SIZE: INVALID_QUANTITY,
    FilterCode.MIN_NOTIONAL: MIN_NOTIONAL,
}


@dataclass(frozen=True, slots=True)
class Accepted:
    order: Order


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str  # ExecutionReason enum name
    text: str


class _MalformedError(ValueError):
    pass


def _decimal(name: str, text: str) -> Decimal:
    try:
        return from_wire(text)
    except ValueError as exc:
        raise _MalformedError(f"{name}: {exc}") from exc


def _order(request: OrderRequest) -> Order:
    """The request as an Order; _MalformedError naming the first field that prevents it."""
    if request.side == SidePb.SIDE_UNSPECIFIED:
        raise _MalformedError("side is not set")
    if request.order_type == OrderTypePb.ORDER_TYPE_UNSPECIFIED:
        raise _MalformedError("order_type is not set")
    order_type = OrderType(OrderTypePb.Name(request.order_type))
    quantity = _decimal("quantity", request.quantity)
    if quantity <= 0:
        raise _MalformedError(f"quantity must be > 0, got {request.quantity}")
    limit = None
    if order_type is OrderType.LIMIT:
        limit = _decimal("limit_price", request.limit_price)
        if limit <= 0:
            raise _MalformedError(f"limit_price must be > 0, got {request.limit_price}")
    elif request.limit_price:
        raise _MalformedError("a market order takes no limit_price")
    if request.time_in_force == TimeInForcePb.TIME_IN_FORCE_UNSPECIFIED:
        # The contract's default: GTC for limit orders, IOC for market orders.
        tif = TimeInForce.GTC if order_type is OrderType.LIMIT else TimeInForce.IOC
    else:
        tif = TimeInForce(TimeInForcePb.Name(request.time_in_force))
    return Order(
        client_order_id=request.client_order_id,
        symbol=request.symbol,
        side=Side(SidePb.Name(request.side)),
        order_type=order_type,
        quantity=quantity,
        limit_price=limit,
        time_in_force=tif,
        expire_at_ns=request.expire_at_ns or None,
    )


def _filter_violations(
    order: Order, request: OrderRequest, catalog: InstrumentCatalog
) -> list[FilterViolation]:
    instrument = catalog.get(order.symbol)
    assert instrument is not None  # checked by the caller
    if order.limit_price is not None:
        return instrument.check(order.limit_price, order.quantity)
    # A market order has no price of its own: the notional is judged at risk's reference price
    # (which need not sit on the tick grid); without one only the lot filter applies.
    reference = _decimal("reference_price", request.reference_price) if request.reference_price else None
    price = reference if reference is not None and reference > 0 else instrument.tick_size
    found = instrument.check(price, order.quantity)
    keep = {FilterCode.LOT_SIZE} | ({FilterCode.MIN_NOTIONAL} if price is reference else set())
    return [v for v in found if v.code in keep]


def intake(
    request: OrderRequest,
    catalog: InstrumentCatalog,
    *,
    kill_switch_engaged: bool,
    trading: Effective = RUNNING,
) -> Accepted | Rejected:
    """Accept the request as a NEW order, or say why it is rejected (first reason found). `trading`:
    what the production controller says of execution for the request's account at its market time."""
    try:
        if not is_event_id(request.event_id):
            raise _MalformedError(f"event_id {request.event_id!r} is not a UUID")
        if not request.symbol:
            raise _MalformedError("symbol is not set")
        if catalog.get(request.symbol) is None:
            return Rejected(UNKNOWN_SYMBOL, f"symbol {request.symbol} is not in the instrument catalogue")
        order = _order(request)
        violations = _filter_violations(order, request, catalog)
    except _MalformedError as exc:
        return Rejected(MALFORMED, str(exc))
    if violations:
        return Rejected(_FILTER_REASONS[violations[0].code], "; ".join(v.message for v in violations))
    if kill_switch_engaged:
        return Rejected(KILL_SWITCH, "the kill switch is engaged: no new orders are accepted")
    if not trading.running:  # paused, stopped or halted: the board's reason says which and why
        return Rejected(TRADING_HALTED, trading.reason)
    return Accepted(order)
