"""Portfolio numbers against hand-computed values (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kestrel_gateway.portfolio_view import EquityPoint, PricePoint, build_portfolio, downsample
from kestrel_trading.domain import Fill, Side

D = Decimal
S = 1_000_000_000


def _fill(
    fill_id: str, side: Side, qty: str, price: str, fee: str, ts_s: int, symbol: str = "BTC/USDT"
) -> Fill:
    return Fill(fill_id, "m-1", symbol, side, D(price), D(qty), D(fee), ts_s * S)


FILLS = [
    _fill("b1", Side.BUY, "2", "100", "0.2", 10),
    _fill("s1", Side.SELL, "1", "110", "0.11", 20),
    _fill("e1", Side.BUY, "10", "5", "0.05", 15, symbol="ETH/USDT"),
]


def test_cash_pnl_fees_and_equity_match_the_hand_computation() -> None:
    view = build_portfolio(D("10000"), FILLS, {"BTC/USDT": D("120")})
    # cash = 10000 - 2*100 - 0.2 - 10*5 - 0.05 + 1*110 - 0.11
    assert view.portfolio.cash == D("9859.64")
    assert view.portfolio.realized_pnl == D("10")  # sold 1 bought at 100 for 110
    assert view.portfolio.fees == D("0.36")
    btc, eth = view.positions
    assert (btc.position.quantity, btc.mark, btc.mark_source, btc.unrealized_pnl) == (
        D(1),
        D(120),
        "bar",
        D(20),
    )
    # no bar for ETH: marked at its last fill price
    assert (eth.position.quantity, eth.mark, eth.mark_source, eth.unrealized_pnl) == (
        D(10),
        D(5),
        "fill",
        D(0),
    )
    assert view.unrealized_pnl == D("20")
    assert view.equity == D("9859.64") + D("120") + D("50")
    # the accounting identity
    assert view.equity == D("10000") + view.portfolio.realized_pnl + view.unrealized_pnl - view.portfolio.fees


def test_the_equity_curve_follows_fills_and_bar_closes_in_time_order() -> None:
    prices = [PricePoint(12 * S, "BTC/USDT", D("105")), PricePoint(5 * S, "BTC/USDT", D("90"))]
    view = build_portfolio(D("1000"), [FILLS[0]], {"BTC/USDT": D("105")}, prices)
    # before the first fill nothing is plotted; after it: cash 799.8 + 2 x mark
    assert view.equity_curve == (EquityPoint(10 * S, D("999.8")), EquityPoint(12 * S, D("1009.8")))


def test_a_replayed_fill_counts_once() -> None:
    assert build_portfolio(D("1000"), [FILLS[0], FILLS[0]], {}).portfolio.cash == D("799.8")


def test_downsampling_keeps_at_most_the_limit_with_the_ends() -> None:
    points = [EquityPoint(i, D(i)) for i in range(2000)]
    thinned = downsample(points, 500)
    assert len(thinned) == 500
    assert (thinned[0], thinned[-1]) == (points[0], points[-1])
    assert downsample(points[:10], 500) == tuple(points[:10])
    with pytest.raises(ValueError):
        downsample(points, 1)
