"""A commission taken from the base asset, as positions see it (pure).

Binance charges a buyer in what it bought: buy 0.5 BTC with a 0.1% commission and the account holds
0.4995 BTC. A position that counted 0.5 would try to sell BTC the account does not have. So such a
trade moves the position twice: the fill itself without a fee, then the commission leaving the
holding at the fill price, its value (commission x price, in the quote currency) as the fee. Both
execution (from the venue's trade) and risk (from the report, or the stored fill) apply it the same
way, so their positions agree with each other and with the venue.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from kestrel_trading.domain import Fill, Side


def base_asset_of(symbol: str) -> str:
    """ "BTC/USDT" -> "BTC"; a symbol without a quote part is its own base ("SP500")."""
    base, sep, _ = symbol.partition("/")
    return base if sep else symbol


def position_fills(fill: Fill, commission: Decimal, commission_asset: str) -> list[Fill]:
    """What `fill` does to its position when the venue charged `commission` in `commission_asset`.

    A commission in the fill's base asset becomes the second, fee-only reduction described above;
    any other is taken as the fee it is (in the quote currency, as the paper broker charges it)."""
    if commission_asset != base_asset_of(fill.symbol) or commission <= 0:
        return [replace(fill, fee=commission)]
    paid = replace(
        fill,
        fill_id=f"{fill.fill_id}:commission",
        side=Side.SELL,
        quantity=commission,
        fee=commission * fill.price,
    )
    return [replace(fill, fee=Decimal(0)), paid]
