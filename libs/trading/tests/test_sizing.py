from decimal import Decimal

import pytest

from kestrel_trading.instruments import Instrument
from kestrel_trading.sizing import SizingError, fixed_fraction_qty, vol_target_qty

D = Decimal
TEN = D(10)
EQUITY = D(100_000)


def test_fixed_fraction_spends_the_fraction_and_rounds_down(btc: Instrument) -> None:
    # 10_000 x 0.1 / 30_000 = 0.0333.. -> 0.033
    assert fixed_fraction_qty(D(10_000), D("0.1"), D(30_000), btc) == D("0.033")


def test_fixed_fraction_below_one_lot_is_zero(btc: Instrument) -> None:
    assert fixed_fraction_qty(D(10), D("0.1"), D(30_000), btc) == 0


def test_fixed_fraction_is_capped_at_max_qty(btc: Instrument) -> None:
    assert fixed_fraction_qty(D(10**9), D(1), D(1), btc) == btc.max_qty


@pytest.mark.parametrize("equity", [D(0), D(-5)])
def test_no_equity_sizes_to_zero(btc: Instrument, equity: Decimal) -> None:
    assert fixed_fraction_qty(equity, D("0.1"), D(100), btc) == 0


@pytest.mark.parametrize(
    ("equity", "fraction", "price", "match"),
    [
        (D(1000), D("0.1"), D(0), "price"),
        (D(1000), D("0.1"), D(-1), "price"),
        (D(1000), D("0.1"), D("NaN"), "price"),
        (D(1000), D(0), D(100), "fraction"),
        (D(1000), D("1.5"), D(100), "fraction"),
        (D("NaN"), D("0.1"), D(100), "equity"),
    ],
)
def test_fixed_fraction_rejects_malformed_inputs(
    btc: Instrument, equity: Decimal, fraction: Decimal, price: Decimal, match: str
) -> None:
    with pytest.raises(SizingError, match=match):
        fixed_fraction_qty(equity, fraction, price, btc)


def _vol(btc: Instrument, vol: Decimal, max_leverage: Decimal = TEN, equity: Decimal = EQUITY) -> Decimal:
    return vol_target_qty(
        equity=equity,
        price=D(100),
        bar_volatility=vol,
        bars_per_year=10_000,
        target_annual_vol=D("0.2"),
        max_leverage=max_leverage,
        instrument=btc,
    )


def test_vol_target_scales_inversely_with_volatility(btc: Instrument) -> None:
    # annual vol = 0.01 x sqrt(10_000) = 1.0 -> leverage 0.2 -> notional 2_000 -> 20 units at 100.
    assert _vol(btc, D("0.01"), equity=D(10_000)) == D(20)
    assert _vol(btc, D("0.02"), equity=D(10_000)) == D(10)


def test_vol_target_leverage_is_capped(btc: Instrument) -> None:
    # annual vol 0.0001 x 100 = 0.01 -> leverage 20, capped at 2 -> notional 2_000 -> 20 units.
    assert _vol(btc, D("0.0001"), max_leverage=D(2), equity=D(1_000)) == D(20)


def test_unknown_volatility_sizes_to_zero(btc: Instrument) -> None:
    assert _vol(btc, D(0)) == 0


@pytest.mark.parametrize("vol", [D(-1), D("NaN"), D("Infinity")])
def test_vol_target_rejects_malformed_volatility(btc: Instrument, vol: Decimal) -> None:
    with pytest.raises(SizingError, match="bar_volatility"):
        _vol(btc, vol)


def test_vol_target_rejects_bad_parameters(btc: Instrument) -> None:
    with pytest.raises(SizingError, match="max_leverage"):
        _vol(btc, D("0.01"), max_leverage=D(0))
    with pytest.raises(SizingError, match="bars_per_year"):
        vol_target_qty(
            equity=D(1),
            price=D(1),
            bar_volatility=D("0.01"),
            bars_per_year=0,
            target_annual_vol=D("0.2"),
            max_leverage=D(1),
            instrument=btc,
        )
