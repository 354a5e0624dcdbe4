"""Position sizing: how many base units an order should be for.

Both sizers return a quantity already rounded DOWN to the instrument's step, or Decimal 0 when the
result is below one lot (risk turns that into RISK_REASON_ZERO_QUANTITY). Malformed inputs (NaN,
infinite, negative price, fraction outside (0, 1]) raise SizingError; an account with no equity,
or an unknown volatility (0, as Signal carries it), sizes to zero rather than raising.
"""

from __future__ import annotations

from decimal import Decimal

from kestrel_trading.instruments import Instrument

_ZERO = Decimal(0)


class SizingError(ValueError):
    """The inputs cannot be sized (malformed, not merely too small)."""


def _finite(name: str, value: Decimal) -> Decimal:
    if not value.is_finite():
        raise SizingError(f"{name} must be a finite number, got {value}")
    return value


def _to_lots(notional: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
    qty = instrument.round_qty(notional / price)
    qty = min(qty, instrument.round_qty(instrument.max_qty))
    if qty < instrument.min_qty or qty <= 0:
        return _ZERO
    return qty


def _check_price(price: Decimal) -> None:
    if _finite("price", price) <= 0:
        raise SizingError(f"price must be > 0, got {price}")


def fixed_fraction_qty(equity: Decimal, fraction: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
    """Spend ``fraction`` of ``equity`` (quote currency) at ``price``."""
    _check_price(price)
    if not 0 < _finite("fraction", fraction) <= 1:
        raise SizingError(f"fraction must be in (0, 1], got {fraction}")
    if _finite("equity", equity) <= 0:
        return _ZERO
    return _to_lots(equity * fraction, price, instrument)


def vol_target_qty(
    *,
    equity: Decimal,
    price: Decimal,
    bar_volatility: Decimal,
    bars_per_year: int,
    target_annual_vol: Decimal,
    max_leverage: Decimal,
    instrument: Instrument,
) -> Decimal:
    """Size so the position's annualized volatility is ``target_annual_vol``.

    ``bar_volatility`` is the realized standard deviation of per-bar log returns (dimensionless);
    it is annualized with sqrt(bars_per_year). The notional is capped at ``max_leverage`` x equity,
    because a quiet market would otherwise ask for an unbounded position.
    """
    _check_price(price)
    if _finite("bar_volatility", bar_volatility) < 0:
        raise SizingError(f"bar_volatility must be >= 0, got {bar_volatility}")
    if bars_per_year <= 0:
        raise SizingError(f"bars_per_year must be > 0, got {bars_per_year}")
    if _finite("target_annual_vol", target_annual_vol) <= 0:
        raise SizingError(f"target_annual_vol must be > 0, got {target_annual_vol}")
    if _finite("max_leverage", max_leverage) <= 0:
        raise SizingError(f"max_leverage must be > 0, got {max_leverage}")
    if _finite("equity", equity) <= 0 or bar_volatility == 0:
        return _ZERO
    annual_vol = bar_volatility * Decimal(bars_per_year).sqrt()
    leverage = min(target_annual_vol / annual_vol, max_leverage)
    return _to_lots(equity * leverage, price, instrument)
