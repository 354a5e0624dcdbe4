from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kestrel_trading.domain import Side
from kestrel_trading.instruments import FilterCode, Instrument

D = Decimal


def test_round_price_rounds_toward_the_passive_side(btc: Instrument) -> None:
    assert btc.round_price(D("100.057"), Side.BUY) == D("100.05")
    assert btc.round_price(D("100.051"), Side.SELL) == D("100.06")
    assert btc.round_price(D("100.055")) == D("100.06")
    assert btc.round_price(D("100.054")) == D("100.05")
    assert btc.round_price(D("100.05"), Side.BUY) == D("100.05")


def test_price_against_rounds_toward_the_aggressive_side(btc: Instrument) -> None:
    assert btc.price_against(D("100.051"), Side.BUY) == D("100.06")
    assert btc.price_against(D("100.059"), Side.SELL) == D("100.05")


def test_round_qty_rounds_down_to_the_step(btc: Instrument) -> None:
    assert btc.round_qty(D("1.23456")) == D("1.234")
    assert btc.round_qty(D("0.0009")) == 0


def test_round_fee_rounds_up_to_quote_precision(btc: Instrument) -> None:
    assert btc.round_fee(D("0.000000001")) == D("0.00000001")


def test_valid_order_passes_every_filter(btc: Instrument) -> None:
    assert btc.check(D("50000.00"), D("0.001")) == []


def test_price_off_tick_is_a_price_filter_violation(btc: Instrument) -> None:
    [v] = btc.check(D("50000.005"), D("0.01"))
    assert v.code is FilterCode.PRICE_FILTER
    assert (v.observed, v.limit) == (D("50000.005"), D("0.01"))
    assert "tick size" in v.message


def test_non_positive_price_is_a_price_filter_violation(btc: Instrument) -> None:
    codes = [v.code for v in btc.check(D("0"), D("1"))]
    assert codes[0] is FilterCode.PRICE_FILTER


@pytest.mark.parametrize(
    ("qty", "limit", "word"),
    [
        (D("0.0005"), D("0.001"), "minimum"),
        (D("101"), D("100"), "maximum"),
        (D("1.0005"), D("0.001"), "step"),
    ],
)
def test_lot_size_violations_name_the_bound(btc: Instrument, qty: Decimal, limit: Decimal, word: str) -> None:
    violations = [v for v in btc.check(D("100000.00"), qty) if v.code is FilterCode.LOT_SIZE]
    assert len(violations) == 1
    assert violations[0].limit == limit
    assert word in violations[0].message


def test_min_notional_violation_reports_the_notional(btc: Instrument) -> None:
    [v] = btc.check(D("9000.00"), D("0.001"))
    assert v.code is FilterCode.MIN_NOTIONAL
    assert (v.observed, v.limit) == (D("9.00000"), D("10"))


def test_all_violations_are_reported_in_a_stable_order(btc: Instrument) -> None:
    codes = [v.code for v in btc.check(D("1.001"), D("0.0001"))]
    assert codes == [FilterCode.PRICE_FILTER, FilterCode.LOT_SIZE, FilterCode.MIN_NOTIONAL]


def test_instrument_rejects_nonsense_filters() -> None:
    with pytest.raises(ValueError, match="tick_size"):
        Instrument("X", D(0), D("0.1"), D(0), D(1), D(0))
    with pytest.raises(ValueError, match="min_qty"):
        Instrument("X", D("0.1"), D("0.1"), D(2), D(1), D(0))
    with pytest.raises(ValueError, match="finite"):
        Instrument("X", D("NaN"), D("0.1"), D(0), D(1), D(0))


# At least one tick: a buy below one tick rounds to 0, which check() then reports (tested above).
prices = st.decimals(min_value=D("0.05"), max_value=D("1000000"), places=6)


@given(price=prices, side=st.sampled_from(list(Side)))
def test_rounded_prices_are_on_tick_within_one_tick_and_never_worse(price: Decimal, side: Side) -> None:
    inst = Instrument("X", D("0.05"), D("0.001"), D(0), D(10), D(0))
    rounded = inst.round_price(price, side)
    assert rounded % inst.tick_size == 0
    assert abs(rounded - price) < inst.tick_size
    assert (rounded <= price) if side is Side.BUY else (rounded >= price)
    assert not [v for v in inst.check(rounded, D(1)) if v.code is FilterCode.PRICE_FILTER]


@given(qty=st.decimals(min_value=D(0), max_value=D(50), places=8))
def test_rounded_quantities_are_on_step_and_never_larger(qty: Decimal) -> None:
    inst = Instrument("X", D("0.01"), D("0.25"), D(0), D(100), D(0))
    rounded = inst.round_qty(qty)
    assert rounded % inst.step_size == 0
    assert 0 <= qty - rounded < inst.step_size
