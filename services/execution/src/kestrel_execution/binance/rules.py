"""exchangeInfo's symbol filters, checked before an order is sent, and venue errors as reasons.

Checking first saves a request (and the order-rate budget) on an order the venue would refuse; the
venue's own answer still decides, and its refusal maps to the same ExecutionReason as ours would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kestrel_execution.intake import INVALID_PRICE, INVALID_QUANTITY, MIN_NOTIONAL, UNKNOWN_SYMBOL
from kestrel_trading.orders import Order, OrderType

INSUFFICIENT_BALANCE = "EXECUTION_REASON_INSUFFICIENT_BALANCE"
VENUE_REJECTED = "EXECUTION_REASON_VENUE_REJECTED"
_FILTER_REASONS = {
    "PRICE_FILTER": INVALID_PRICE,
    "LOT_SIZE": INVALID_QUANTITY,
    "MARKET_LOT_SIZE": INVALID_QUANTITY,
    "NOTIONAL": MIN_NOTIONAL,
    "MIN_NOTIONAL": MIN_NOTIONAL,
}


@dataclass(frozen=True, slots=True)
class Violation:
    filter: str  # Binance's filter name
    message: str

    @property
    def reason(self) -> str:
        return _FILTER_REASONS.get(self.filter, VENUE_REJECTED)


def _step_ok(value: Decimal, minimum: Decimal, maximum: Decimal, step: Decimal) -> bool:
    if (minimum and value < minimum) or (maximum and value > maximum):
        return False
    return not step or (value - minimum) % step == 0


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """One symbol's exchangeInfo entry: its status and filters (each a dict of decimal strings)."""

    symbol: str
    status: str
    base_asset: str
    quote_asset: str
    filters: Mapping[str, Mapping[str, Any]]

    @classmethod
    def from_exchange_info(cls, entry: Mapping[str, Any]) -> SymbolRules:
        filters = {f["filterType"]: f for f in entry.get("filters", [])}
        return cls(entry["symbol"], entry["status"], entry["baseAsset"], entry["quoteAsset"], filters)

    def _d(self, name: str, field: str) -> Decimal:
        return Decimal(str(self.filters.get(name, {}).get(field, "0")))

    def check(self, order: Order, open_orders: int) -> list[Violation]:
        """What the venue would refuse in `order`, with `open_orders` already open on the symbol."""
        found: list[Violation] = []
        if self.status != "TRADING":
            found.append(Violation("STATUS", f"{self.symbol} is {self.status}, not TRADING"))
        qty, price = order.quantity, order.limit_price
        lot = (
            "MARKET_LOT_SIZE"
            if order.order_type is OrderType.MARKET and "MARKET_LOT_SIZE" in self.filters
            else "LOT_SIZE"
        )
        if lot in self.filters and not _step_ok(
            qty, self._d(lot, "minQty"), self._d(lot, "maxQty"), self._d(lot, "stepSize")
        ):
            found.append(Violation(lot, f"quantity {qty} breaks {lot} of {self.symbol}"))
        if price is not None and "PRICE_FILTER" in self.filters:
            rule = "PRICE_FILTER"
            if not _step_ok(
                price, self._d(rule, "minPrice"), self._d(rule, "maxPrice"), self._d(rule, "tickSize")
            ):
                found.append(Violation(rule, f"price {price} breaks PRICE_FILTER of {self.symbol}"))
        if price is not None:
            found += self._notional(price * qty)
        limit = self.filters.get("MAX_NUM_ORDERS", {}).get("maxNumOrders")
        if limit is not None and open_orders >= int(limit):
            found.append(
                Violation("MAX_NUM_ORDERS", f"{open_orders} orders open on {self.symbol}, at most {limit}")
            )
        return found

    def _notional(self, notional: Decimal) -> list[Violation]:
        for name in ("NOTIONAL", "MIN_NOTIONAL"):
            if name not in self.filters:
                continue
            low, high = self._d(name, "minNotional"), self._d(name, "maxNotional")
            if notional < low or (high and notional > high):
                return [Violation(name, f"notional {notional} outside {name} [{low}, {high or 'inf'}]")]
        return []


def rejection_reason(code: int, msg: str) -> str:
    """The ExecutionReason of a venue refusal (its error code and message)."""
    if code == -1013:
        for name, reason in _FILTER_REASONS.items():
            if msg.endswith(name):
                return reason
    if code == -2010 and "insufficient balance" in msg.lower():
        return INSUFFICIENT_BALANCE
    if code == -1121:
        return UNKNOWN_SYMBOL
    return VENUE_REJECTED
