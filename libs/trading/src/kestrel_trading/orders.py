"""The order state machine: NEW -> PARTIALLY_FILLED -> FILLED, or -> CANCELED / REJECTED / EXPIRED.

``Order`` is immutable; every transition returns a new value or raises ``OrderTransitionError``.
Fills are applied once by fill_id: re-applying a known fill returns the order unchanged, so a
redelivered report or stream entry can never double-count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from kestrel_trading.domain import Fill, Side, require_finite


class OrderStatus(StrEnum):
    """Values are the OrderStatus proto enum names."""

    NEW = "ORDER_STATUS_NEW"
    PARTIALLY_FILLED = "ORDER_STATUS_PARTIALLY_FILLED"
    FILLED = "ORDER_STATUS_FILLED"
    CANCELED = "ORDER_STATUS_CANCELED"
    REJECTED = "ORDER_STATUS_REJECTED"
    EXPIRED = "ORDER_STATUS_EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class OrderType(StrEnum):
    MARKET = "ORDER_TYPE_MARKET"
    LIMIT = "ORDER_TYPE_LIMIT"


class TimeInForce(StrEnum):
    GTC = "TIME_IN_FORCE_GTC"
    IOC = "TIME_IN_FORCE_IOC"
    FOK = "TIME_IN_FORCE_FOK"


class OrderTransitionError(ValueError):
    """A transition the state machine does not allow (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Order:
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    # Instant (ns) from which an unfilled remainder expires; None = never.
    expire_at_ns: int | None = None
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = Decimal(0)
    # Σ price x qty of the fills: kept exact so average_price is derived, never accumulated.
    filled_notional: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    fill_ids: frozenset[str] = frozenset()
    reason: str = ""

    def __post_init__(self) -> None:
        require_finite("quantity", self.quantity)
        if self.quantity <= 0:
            raise ValueError(f"order {self.client_order_id}: quantity must be > 0, got {self.quantity}")
        if self.order_type is OrderType.LIMIT:
            if self.limit_price is None or not self.limit_price.is_finite() or self.limit_price <= 0:
                raise ValueError(f"order {self.client_order_id}: a limit order needs a limit price > 0")
        elif self.limit_price is not None:
            raise ValueError(f"order {self.client_order_id}: a market order takes no limit price")

    @property
    def leaves_quantity(self) -> Decimal:
        return Decimal(0) if self.status.is_terminal else self.quantity - self.filled_quantity

    @property
    def average_price(self) -> Decimal | None:
        return self.filled_notional / self.filled_quantity if self.filled_quantity else None


def _refuse_if_terminal(order: Order, action: str) -> None:
    if order.status.is_terminal:
        raise OrderTransitionError(
            f"order {order.client_order_id}: cannot {action}, it is {order.status.name}"
        )


def apply_fill(order: Order, fill: Fill) -> Order:
    if fill.fill_id in order.fill_ids:
        return order
    _refuse_if_terminal(order, f"apply fill {fill.fill_id}")
    if (fill.client_order_id, fill.symbol, fill.side) != (order.client_order_id, order.symbol, order.side):
        raise OrderTransitionError(
            f"fill {fill.fill_id} ({fill.client_order_id} {fill.symbol} {fill.side.name}) does not belong "
            f"to order {order.client_order_id} ({order.symbol} {order.side.name})"
        )
    filled = order.filled_quantity + fill.quantity
    if filled > order.quantity:
        raise OrderTransitionError(
            f"order {order.client_order_id}: fill {fill.fill_id} of {fill.quantity} would overfill "
            f"({order.filled_quantity} of {order.quantity} already filled)"
        )
    return replace(
        order,
        status=OrderStatus.FILLED if filled == order.quantity else OrderStatus.PARTIALLY_FILLED,
        filled_quantity=filled,
        filled_notional=order.filled_notional + fill.notional,
        fees=order.fees + fill.fee,
        fill_ids=order.fill_ids | {fill.fill_id},
    )


def cancel(order: Order, reason: str) -> Order:
    _refuse_if_terminal(order, "cancel")
    return replace(order, status=OrderStatus.CANCELED, reason=reason)


def expire(order: Order, reason: str = "expired") -> Order:
    _refuse_if_terminal(order, "expire")
    return replace(order, status=OrderStatus.EXPIRED, reason=reason)


def reject(order: Order, reason: str) -> Order:
    """Only a NEW order can be rejected: once something filled, the order was accepted."""
    if order.status is not OrderStatus.NEW:
        raise OrderTransitionError(f"order {order.client_order_id}: cannot reject, it is {order.status.name}")
    return replace(order, status=OrderStatus.REJECTED, reason=reason)
