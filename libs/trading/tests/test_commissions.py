"""A commission in the base asset leaves the position; any other is the fee it is."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from kestrel_trading.commissions import base_asset_of, position_fills
from kestrel_trading.domain import Fill, Side
from kestrel_trading.portfolio import Portfolio

BUY = Fill("t-1", "c-1", "BTC/USDT", Side.BUY, Decimal("100"), Decimal("0.5"), Decimal(0), 1)


def test_base_assets() -> None:
    assert (base_asset_of("BTC/USDT"), base_asset_of("SP500")) == ("BTC", "SP500")


def test_a_base_commission_leaves_the_holding_and_its_value_is_the_fee() -> None:
    parts = position_fills(BUY, Decimal("0.0005"), "BTC")
    assert [(p.fill_id, p.side, p.quantity, p.fee) for p in parts] == [
        ("t-1", Side.BUY, Decimal("0.5"), Decimal(0)),
        ("t-1:commission", Side.SELL, Decimal("0.0005"), Decimal("0.0500")),
    ]
    portfolio = Portfolio(Decimal(1000))
    for part in parts:
        portfolio = portfolio.apply_fill(part)
    position = portfolio.positions["BTC/USDT"]
    # The account paid 50 USDT and holds 0.4995 BTC; the commission's value is the fee, no P&L.
    assert (portfolio.cash, position.quantity) == (Decimal(950), Decimal("0.4995"))
    assert (position.fees, position.realized_pnl, position.average_price) == (
        Decimal("0.0500"), Decimal(0), Decimal(100),
    )  # fmt: skip


def test_a_quote_or_paper_fee_is_taken_as_is() -> None:
    assert position_fills(BUY, Decimal("0.05"), "USDT") == [replace(BUY, fee=Decimal("0.05"))]
    assert position_fills(BUY, Decimal(0), "BTC")[0].fee == 0
