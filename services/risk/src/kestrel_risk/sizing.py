"""How a signal becomes an order side and quantity for the account (sizing from kestrel_trading).

Semantics (long-only spot unless ``allow_short``): the sizer gives a TARGET position size T >= 0.

- BUY targets a long of T: it buys ``T - position`` when that is positive (opens or adds up to T),
  otherwise nothing (a BUY while already holding T or more does not sell). In a spot account the
  purchase is also capped by the cash available, since spot cannot borrow.
- SELL targets flat: it sells the whole long (closes it) and never goes short. With
  ``allow_short`` it targets a short of T instead: it closes the long and sells T more.
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

    def target(self, equity: Decimal, price: Decimal, volatility: float, instrument: Instrument) -> Decimal:
        """The position size (base units, >= 0, in whole lots) a signal asks for. SizingError if malformed."""
        if self.method == "fixed_fraction":
            return fixed_fraction_qty(equity, self.fraction, price, instrument)
        return vol_target_qty(
            equity=equity,
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
