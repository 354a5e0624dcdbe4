"""Per-symbol exchange filters (tick size, lot size, minimum notional) and rounding to them.

Rounding conventions:
- ``round_price(price, side)`` rounds toward the PASSIVE side: a buy rounds down, a sell rounds up,
  so a rounded limit price is never worse for the trader than the price asked for. With no side it
  rounds to the nearest tick (half up).
- ``price_against(price, side)`` rounds the other way (buy up, sell down); the paper broker uses it
  for slipped market fills so rounding never flatters a simulated fill.
- ``round_qty(qty)`` rounds DOWN to the step: sizing never buys more than the budget allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from kestrel_trading.domain import Side, require_finite


class FilterCode(StrEnum):
    """Binance's filter names, so venue rejections and ours read the same."""

    PRICE_FILTER = "PRICE_FILTER"
    LOT_SIZE = "LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"


@dataclass(frozen=True, slots=True)
class FilterViolation:
    code: FilterCode
    observed: Decimal
    limit: Decimal
    message: str


def _to_multiple(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    # Precision fees and cash are kept in (quote currency), e.g. 1e-8 USDT.
    quote_precision: Decimal = Decimal("0.00000001")

    def __post_init__(self) -> None:
        for name in ("tick_size", "step_size", "min_qty", "max_qty", "min_notional", "quote_precision"):
            require_finite(name, getattr(self, name))
        if self.tick_size <= 0 or self.step_size <= 0 or self.quote_precision <= 0:
            raise ValueError(f"{self.symbol}: tick_size, step_size and quote_precision must be > 0")
        if not 0 <= self.min_qty <= self.max_qty:
            raise ValueError(
                f"{self.symbol}: need 0 <= min_qty <= max_qty, got {self.min_qty}, {self.max_qty}"
            )
        if self.min_notional < 0:
            raise ValueError(f"{self.symbol}: min_notional must be >= 0, got {self.min_notional}")

    def round_price(self, price: Decimal, side: Side | None = None) -> Decimal:
        require_finite("price", price)
        passive = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
        rounding = ROUND_HALF_UP if side is None else passive
        return _to_multiple(price, self.tick_size, rounding)

    def price_against(self, price: Decimal, side: Side) -> Decimal:
        return self.round_price(price, side.opposite)

    def round_qty(self, qty: Decimal) -> Decimal:
        require_finite("quantity", qty)
        return _to_multiple(qty, self.step_size, ROUND_FLOOR)

    def round_fee(self, fee: Decimal) -> Decimal:
        """Fees round UP to the quote precision: a simulation never undercharges."""
        return _to_multiple(fee, self.quote_precision, ROUND_CEILING)

    def check(self, price: Decimal, qty: Decimal) -> list[FilterViolation]:
        """Every filter the (price, qty) pair violates, in the order PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL."""
        require_finite("price", price)
        require_finite("quantity", qty)
        out: list[FilterViolation] = []
        if price <= 0:
            out.append(self._violation(FilterCode.PRICE_FILTER, price, Decimal(0), "price must be > 0"))
        elif price % self.tick_size != 0:
            msg = f"price {price} is not a multiple of tick size {self.tick_size}"
            out.append(self._violation(FilterCode.PRICE_FILTER, price, self.tick_size, msg))
        if qty < self.min_qty or qty <= 0:
            msg = f"quantity {qty} is below the minimum {self.min_qty}"
            out.append(self._violation(FilterCode.LOT_SIZE, qty, self.min_qty, msg))
        elif qty > self.max_qty:
            msg = f"quantity {qty} is above the maximum {self.max_qty}"
            out.append(self._violation(FilterCode.LOT_SIZE, qty, self.max_qty, msg))
        elif qty % self.step_size != 0:
            msg = f"quantity {qty} is not a multiple of step size {self.step_size}"
            out.append(self._violation(FilterCode.LOT_SIZE, qty, self.step_size, msg))
        notional = price * qty
        if notional < self.min_notional:
            msg = f"notional {notional} is below the minimum {self.min_notional}"
            out.append(self._violation(FilterCode.MIN_NOTIONAL, notional, self.min_notional, msg))
        return out

    def _violation(self, code: FilterCode, observed: Decimal, limit: Decimal, msg: str) -> FilterViolation:
        return FilterViolation(code, observed, limit, f"{self.symbol} {code}: {msg}")
