"""The scripted outside liquidity of one symbol, and how a taker order would walk it.

Levels are consumed by client takers (what one order took is gone for the next), so a test sees the
market move as it trades; `set_book` on the exchange replaces them wholesale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from kestrel_testing.fake_binance_model import OrderRequest

PriceLevels = Iterable[tuple[str | Decimal, str | Decimal]]


@dataclass(slots=True)
class Level:
    price: Decimal
    qty: Decimal


Plan = list[tuple[Level, Decimal]]


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_DOWN) * step if step > 0 else value


def _levels(raw: PriceLevels, descending: bool) -> list[Level]:
    levels = [Level(Decimal(p), Decimal(q)) for p, q in raw]
    return sorted((lv for lv in levels if lv.qty > 0), key=lambda lv: lv.price, reverse=descending)


class OutsideBook:
    def __init__(self, bids: PriceLevels = (), asks: PriceLevels = ()) -> None:
        self.bids = _levels(bids, descending=True)  # best (highest) first
        self.asks = _levels(asks, descending=False)  # best (lowest) first

    def snapshot(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        return [(lv.price, lv.qty) for lv in self.bids], [(lv.price, lv.qty) for lv in self.asks]

    def drop_empty(self) -> None:
        self.bids = [lv for lv in self.bids if lv.qty > 0]
        self.asks = [lv for lv in self.asks if lv.qty > 0]

    def plan(self, request: OrderRequest, step: Decimal) -> tuple[Plan, bool]:
        """The taker fills the book allows (level, qty), and whether the book ran out before the order.

        By quantity, or by quote amount (quoteOrderQty) rounded down to `step` at each level's price."""
        buy = request.side == "BUY"
        limit = request.price if request.type != "MARKET" else None
        left_qty, left_quote = request.quantity, request.quote_order_qty
        plan: Plan = []
        for level in self.asks if buy else self.bids:
            if limit is not None and (level.price > limit if buy else level.price < limit):
                return plan, False
            if left_qty is not None:
                take = min(level.qty, left_qty)
                left_qty -= take
            else:
                assert left_quote is not None
                take = min(level.qty, _floor_to(left_quote / level.price, step))
                if take <= 0:
                    return plan, False  # what is left of the quote amount buys less than one step
                left_quote -= take * level.price
                if take < level.qty:
                    plan.append((level, take))
                    return plan, False  # the level had more: the amount is spent, to the step
            plan.append((level, take))
            if left_qty == 0 or left_quote == 0:
                return plan, False
        return plan, True
