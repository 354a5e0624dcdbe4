"""How a signal becomes an order side and quantity for the account (sizing from kestrel_trading).

Semantics (long-only spot unless ``allow_short``): the sizer gives a TARGET position size T >= 0.

- BUY targets a long of T: it buys ``T - position`` when that is positive (opens or adds up to T),
  otherwise nothing (a BUY while already holding T or more does not sell). In a spot account the
  purchase is also capped by the cash available, since spot cannot borrow.
- SELL targets flat: it sells the whole long (closes it) and never goes short. With
  ``allow_short`` it targets a short of T instead: it closes the long and sells T more.
- EXIT targets flat whatever is held: a long is sold, a short bought back (the engine sizes it
  from the projected position, not through the sizer).
- HOLD does nothing (handled before sizing).

"Nothing" is a quantity of 0, which ``kestrel_trading.risk.evaluate`` rejects as
RISK_REASON_ZERO_QUANTITY, so an operator sees why a signal traded nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from kestrel_trading.domain import Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.sizing import SizingError, fixed_fraction_qty, vol_target_qty

__all__ = ["SizingError", "SizingPolicy", "order_for_signal"]


@dataclass(frozen=True, slots=True)
class SizingPolicy:
    method: Literal["fixed_fraction", "vol_target"]
    fraction: Decimal
    target_annual_vol: Decimal
    bars_per_year: int
    max_leverage: Decimal

    def target(
        self,
        equity: Decimal,
        price: Decimal,
        volatility: float,
        instrument: Instrument,
        *,
        weight: float = 1.0,
    ) -> Decimal:
        """The position size (base units, >= 0, in whole lots) a signal asks for. SizingError if malformed.

        ``weight`` (in (0, 1], a strategy's sizing of this position) scales the budget: the equity a
        fixed fraction spends, or the equity a volatility target levers.
        """
        # Signal.weight is a float; via str it becomes the decimal it prints as (the same on every path).
        scale = Decimal(str(weight))
        if self.method == "fixed_fraction":
            return fixed_fraction_qty(equity, self.fraction * scale, price, instrument)
        return vol_target_qty(
            equity=equity * scale,
            price=price,
            # Signal.volatility is a float feature; via str it becomes the decimal it prints as.
            bar_volatility=Decimal(str(volatility)),
            bars_per_year=self.bars_per_year,
            target_annual_vol=self.target_annual_vol,
            max_leverage=self.max_leverage,
            instrument=instrument,
        )


def order_for_signal(
    side: Side,
    target: Decimal,
    position: Decimal,
    *,
    allow_short: bool,
    cash: Decimal,
    price: Decimal,
    instrument: Instrument,
) -> Decimal:
    """The quantity (>= 0, whole lots) of a ``side`` order moving ``position`` toward the signal's target."""
    if side is Side.BUY:
        qty = target - position
        if not allow_short:
            qty = min(qty, cash / price if cash > 0 else Decimal(0))
    else:
        desired = -target if allow_short else Decimal(0)
        qty = position - desired
    return instrument.round_qty(qty) if qty > 0 else Decimal(0)
