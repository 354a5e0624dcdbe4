from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kestrel_trading.domain import Fill, Side
from kestrel_trading.portfolio import Portfolio, Position

D = Decimal
CASH = D(100_000)


def fill(n: int, side: Side, qty: str, price: str, fee: str = "0", symbol: str = "BTC/USDT") -> Fill:
    return Fill(f"f{n}", f"c{n}", symbol, side, D(price), D(qty), D(fee), ts_ns=n)


def test_buys_average_their_cost() -> None:
    pos = Position("BTC/USDT").apply(fill(1, Side.BUY, "1", "100")).apply(fill(2, Side.BUY, "3", "200"))
    assert pos.quantity == 4
    assert pos.average_price == D(175)
    assert pos.realized_pnl == 0
    assert pos.unrealized_pnl(D(180)) == D(20)


def test_reducing_realizes_against_the_average_and_keeps_it() -> None:
    pos = Position("X").apply(fill(1, Side.BUY, "2", "100")).apply(fill(2, Side.SELL, "1", "130", fee="0.5"))
    assert pos.quantity == 1
    assert pos.realized_pnl == D(30)
    assert pos.average_price == D(100)
    assert pos.fees == D("0.5")
    assert pos.last_fill_id == "f2"


def test_flipping_closes_the_old_side_and_opens_at_the_fill_price() -> None:
    pos = Position("X").apply(fill(1, Side.BUY, "1", "100")).apply(fill(2, Side.SELL, "3", "90"))
    assert pos.quantity == -2
    assert pos.realized_pnl == D(-10)
    assert pos.average_price == D(90)
    assert pos.unrealized_pnl(D(80)) == D(20)  # short gains as price falls


def test_covering_a_short_realizes_the_difference() -> None:
    pos = Position("X").apply(fill(1, Side.SELL, "2", "100")).apply(fill(2, Side.BUY, "2", "70"))
    assert pos.quantity == 0
    assert pos.average_price is None
    assert pos.realized_pnl == D(60)
    assert pos.cost_basis == 0


def test_cash_moves_by_notional_and_fees_and_equity_marks_positions() -> None:
    book = Portfolio(CASH).apply_fill(fill(1, Side.BUY, "2", "100", fee="0.2"))
    assert book.cash == CASH - D(200) - D("0.2")
    assert book.equity({"BTC/USDT": D(110)}) == CASH - D("0.2") + D(20)
    assert book.gross_exposure({"BTC/USDT": D(110)}) == D(220)


def test_the_same_fill_twice_is_applied_once() -> None:
    once = Portfolio(CASH).apply_fill(fill(1, Side.BUY, "2", "100"))
    assert once.apply_fill(fill(1, Side.BUY, "2", "100")) is once


def test_equity_needs_a_mark_for_every_open_position() -> None:
    book = Portfolio(CASH).apply_fill(fill(1, Side.BUY, "1", "100", symbol="ETH/USDT"))
    with pytest.raises(ValueError, match="ETH/USDT"):
        book.equity({})


SYMBOLS = ("BTC/USDT", "ETH/USDT")
fills = st.lists(
    st.tuples(
        st.sampled_from(SYMBOLS),
        st.sampled_from(list(Side)),
        st.decimals(min_value=D("0.001"), max_value=D(50), places=3),
        st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2),
        st.decimals(min_value=D(0), max_value=D(5), places=8),
    ),
    max_size=40,
)
marks = st.fixed_dictionaries(
    {s: st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2) for s in SYMBOLS}
)


@settings(max_examples=300, deadline=None)
@given(fills=fills, marks=marks)
def test_portfolio_always_equals_its_fills(
    fills: list[tuple[str, Side, Decimal, Decimal, Decimal]], marks: dict[str, Decimal]
) -> None:
    book = Portfolio(CASH)
    applied = [
        Fill(f"f{i}", f"c{i}", sym, side, price, qty, fee, ts_ns=i)
        for i, (sym, side, qty, price, fee) in enumerate(fills)
    ]
    for f in applied:
        book = book.apply_fill(f)
        book = book.apply_fill(f)  # redelivery changes nothing
    for sym in SYMBOLS:
        signed = sum((f.signed_quantity for f in applied if f.symbol == sym), D(0))
        assert book.positions.get(sym, Position(sym)).quantity == signed
    assert book.cash == CASH - sum((f.signed_quantity * f.price for f in applied), D(0)) - sum(
        (f.fee for f in applied), D(0)
    )
    assert book.fees == sum((f.fee for f in applied), D(0))
    # Liquidating everything at the marks must realize exactly realized + unrealized - fees.
    liquidation = sum((book.positions[s].quantity * marks[s] for s in book.positions), D(0))
    assert book.cash + liquidation - CASH == book.realized_pnl + book.unrealized_pnl(marks) - book.fees
    assert book.equity(marks) == book.cash + liquidation
