"""Orders and trades of the fake exchange, as its matching engine keeps them (Decimal throughout)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)

ORDER_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "MARKET"})
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK"})
SIDES = frozenset({"BUY", "SELL"})
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
# Binance's default for symbols that allow self-trade prevention; served on orders and events.
STP_MODE = "EXPIRE_MAKER"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as the engine takes it: validated types, not yet checked against filters or funds."""

    symbol: str
    side: str  # BUY | SELL
    type: str  # LIMIT | LIMIT_MAKER | MARKET
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None
    client_order_id: str | None = None


@dataclass(slots=True)
class FakeOrder:
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal  # 0 for MARKET, as Binance reports it
    orig_qty: Decimal
    orig_quote_qty: Decimal
    time_ms: int
    update_time_ms: int
    executed_qty: Decimal = ZERO
    cumulative_quote_qty: Decimal = ZERO
    status: str = "NEW"
    is_working: bool = False  # on the book
    working_time_ms: int = -1
    # The client id of the cancel request that closed it (Binance's clientOrderId of a cancel response).
    cancel_client_order_id: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of a client order (what GET /api/v3/myTrades lists)."""

    symbol: str
    trade_id: int
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_buyer: bool
    is_maker: bool


@dataclass(slots=True)
class Placement:
    """What placing an order did: the order as it stands after matching, and its taker fills."""

    order: FakeOrder
    fills: list[Fill]
