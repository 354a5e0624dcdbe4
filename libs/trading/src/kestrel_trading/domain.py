"""Plain value types shared by every module: side, bar, fill.

Enum values are the protobuf enum names (e.g. ``Side.BUY.value == "SIDE_BUY"``) so a service maps a
library value to its contract with ``Side_pb2.Value(side.value)``, 1:1, without this library
importing the generated code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "SIDE_BUY"
    SELL = "SIDE_SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy (adds base asset), -1 for a sell."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Liquidity(StrEnum):
    MAKER = "LIQUIDITY_MAKER"
    TAKER = "LIQUIDITY_TAKER"


def require_finite(name: str, value: Decimal) -> None:
    """Reject NaN and infinities early: Decimal lets them through arithmetic silently."""
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar. ts_open_ns is the interval start; ts_close_ns the (exclusive) end, which is
    the contract's ts_event: the instant the bar's information exists."""

    ts_open_ns: int
    ts_close_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        for name in ("open", "high", "low", "close", "volume"):
            require_finite(name, getattr(self, name))
        if self.ts_close_ns <= self.ts_open_ns:
            raise ValueError(f"bar closes ({self.ts_close_ns}) at or before it opens ({self.ts_open_ns})")
        if not self.low <= min(self.open, self.close) <= max(self.open, self.close) <= self.high:
            raise ValueError(f"inconsistent bar: O={self.open} H={self.high} L={self.low} C={self.close}")
        if self.volume < 0:
            raise ValueError(f"bar volume must be >= 0, got {self.volume}")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution against an order. fill_id is the idempotency key everywhere."""

    fill_id: str
    client_order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    ts_ns: int
    liquidity: Liquidity = Liquidity.TAKER

    def __post_init__(self) -> None:
        for name in ("price", "quantity", "fee"):
            require_finite(name, getattr(self, name))
        if self.price <= 0:
            raise ValueError(f"fill {self.fill_id}: price must be > 0, got {self.price}")
        if self.quantity <= 0:
            raise ValueError(f"fill {self.fill_id}: quantity must be > 0, got {self.quantity}")

    @property
    def notional(self) -> Decimal:
        return self.price * self.quantity

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.side.sign
