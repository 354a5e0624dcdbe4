"""Symbol filters the fake exchange applies before accepting an order: -1013 "Filter failure: <FILTER>".

The rules are read from the symbol's exchangeInfo entry, so what a client downloads is exactly what
is enforced (including MARKET_LOT_SIZE and MAX_NUM_ORDERS given through `extra_filters`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kestrel_testing.fake_binance_data import SymbolSpec
from kestrel_testing.fake_binance_model import ZERO, OrderRequest
from kestrel_testing.fake_binance_rest import RejectedRequestError


def filter_failure(name: str) -> RejectedRequestError:
    return RejectedRequestError(400, -1013, f"Filter failure: {name}")


def symbol_filters(spec: SymbolSpec) -> dict[str, dict[str, Any]]:
    filters: list[dict[str, Any]] = spec.exchange_info_entry()["filters"]
    return {f["filterType"]: f for f in filters}


def fits(value: Decimal, low: Decimal, high: Decimal, step: Decimal) -> bool:
    """Binance's range-and-step rule; a zero bound or step means "not enforced"."""
    if low > 0 and value < low:
        return False
    if high > 0 and value > high:
        return False
    return step == 0 or (value - low) % step == 0


def lot_step(spec: SymbolSpec, market: bool) -> Decimal:
    """The step a quantity must be a multiple of (MARKET_LOT_SIZE's when set for a market order)."""
    filters = symbol_filters(spec)
    lot = filters.get("MARKET_LOT_SIZE") if market else None
    if lot is None or Decimal(lot["stepSize"]) == 0:
        lot = filters["LOT_SIZE"]
    return Decimal(lot["stepSize"])


def check_filters(
    spec: SymbolSpec, order: OrderRequest, reference_price: Decimal | None, open_orders: int
) -> None:
    """Raise -1013 for the first filter `order` breaks.

    `reference_price` prices a market order for the notional rules (Binance uses the average price of
    the last minutes; the fake uses the price the book would fill at), None when the book is empty.
    """
    filters = symbol_filters(spec)
    market = order.type == "MARKET"
    if not market and order.price is not None:
        price_filter = filters["PRICE_FILTER"]
        low, high = Decimal(price_filter["minPrice"]), Decimal(price_filter["maxPrice"])
        if not fits(order.price, low, high, Decimal(price_filter["tickSize"])):
            raise filter_failure("PRICE_FILTER")
    if order.quantity is not None:
        _check_lot(filters["LOT_SIZE"], order.quantity, "LOT_SIZE")
        if market and "MARKET_LOT_SIZE" in filters:
            _check_lot(filters["MARKET_LOT_SIZE"], order.quantity, "MARKET_LOT_SIZE")
    notional = _notional(order, reference_price)
    if notional is not None:
        _check_notional(filters, notional, market)
    max_orders = filters.get("MAX_NUM_ORDERS")
    if max_orders is not None and open_orders + 1 > int(max_orders["maxNumOrders"]):
        raise filter_failure("MAX_NUM_ORDERS")


def _check_lot(lot: dict[str, Any], quantity: Decimal, name: str) -> None:
    low, high, step = Decimal(lot["minQty"]), Decimal(lot["maxQty"]), Decimal(lot["stepSize"])
    # The quantity itself must be positive whatever the bounds say.
    if quantity <= ZERO or not fits(quantity, low, high, step):
        raise filter_failure(name)


def _notional(order: OrderRequest, reference_price: Decimal | None) -> Decimal | None:
    if order.quote_order_qty is not None:
        return order.quote_order_qty
    price = order.price if order.type != "MARKET" else reference_price
    if price is None or order.quantity is None:
        return None
    return price * order.quantity


def _check_notional(filters: dict[str, dict[str, Any]], notional: Decimal, market: bool) -> None:
    rule = filters.get("NOTIONAL")
    if rule is not None:
        if (not market or rule["applyMinToMarket"]) and notional < Decimal(rule["minNotional"]):
            raise filter_failure("NOTIONAL")
        if (not market or rule["applyMaxToMarket"]) and notional > Decimal(rule["maxNotional"]):
            raise filter_failure("NOTIONAL")
    legacy = filters.get("MIN_NOTIONAL")
    # Only reached when a symbol serves MIN_NOTIONAL with a stricter minimum than NOTIONAL's.
    if (
        legacy is not None
        and (not market or legacy["applyToMarket"])
        and notional < Decimal(legacy["minNotional"])
    ):
        raise filter_failure("MIN_NOTIONAL")
