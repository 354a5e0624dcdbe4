"""Reconciliation's comparisons (pure): which breaks are adopted, which halt."""

from __future__ import annotations

from decimal import Decimal

from kestrel_execution.progress import StoredOrder
from kestrel_execution.reconcile import Holding, VenueOrder, VenueSnapshot, compare_holdings, compare_orders
from kestrel_execution.reports import OrderMeta
from kestrel_execution.venue import VenueState
from kestrel_trading.domain import Side
from kestrel_trading.orders import Order, OrderStatus, OrderType
from kestrel_trading.paper import WorkingOrder


def ours(coid: str, filled: str = "0") -> StoredOrder:
    order = Order(coid, "BTC/USDT", Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(100),
                  status=OrderStatus.PARTIALLY_FILLED if Decimal(filled) else OrderStatus.NEW,
                  filled_quantity=Decimal(filled))  # fmt: skip
    meta = OrderMeta(coid, "a", "s", "BTC/USDT", "BINANCE", "1m", "binance", "e", "", "USDT")
    return StoredOrder(coid, meta, WorkingOrder(order, 0), 1, VenueState.ACKED)


def snapshot(*orders: VenueOrder, **balances: str) -> VenueSnapshot:
    return VenueSnapshot(list(orders), {a: Decimal(q) for a, q in balances.items()}, {"BTC/USDT": "BTC"})


def test_agreeing_books_have_no_breaks() -> None:
    found = compare_orders(
        [ours("k-1", "0.5")], snapshot(VenueOrder("k-1", "BTCUSDT", Decimal("0.5"))), set()
    )
    assert found.breaks == [] and found.to_resolve == []


def test_what_the_venue_knows_and_kestrel_missed_is_adopted_not_a_halt() -> None:
    venue = snapshot(VenueOrder("k-2", "BTCUSDT", Decimal("0.7")))
    found = compare_orders([ours("k-1"), ours("k-2", "0.2")], venue, set())
    assert [(b.kind, b.subject, b.explained) for b in found.breaks] == [
        ("order_missing_at_venue", "k-1", True),  # closed at the venue: its final state is adopted
        ("fills_behind", "k-2", True),  # fills Kestrel never heard of
    ]
    assert found.to_resolve == ["k-1", "k-2"] and found.unexplained == []


def test_orders_nobody_can_explain_are_unexplained() -> None:
    venue = snapshot(
        VenueOrder("k-1", "BTCUSDT", Decimal("0.1")),  # Kestrel counts more fills than the venue
        VenueOrder("manual-9", "BTCUSDT", Decimal(0)),  # placed by someone else
        VenueOrder("k-old", "BTCUSDT", Decimal(0)),  # final in Kestrel, open at the venue
    )
    found = compare_orders([ours("k-1", "0.3")], venue, {"k-old"})
    assert [(b.kind, b.subject) for b in found.unexplained] == [
        ("fills_behind", "k-1"), ("unknown_venue_order", "manual-9"), ("closed_but_open", "k-old"),
    ]  # fmt: skip
    assert "not placed by Kestrel" in found.unexplained[1].text


def test_holdings_take_a_baseline_first_then_must_match_it_exactly() -> None:
    holding = {"BTC": Holding(Decimal("0.5"), Decimal("0.0005"))}
    breaks, first = compare_holdings(snapshot(BTC="10.4995"), holding, {})
    assert breaks == [] and first == {"BTC": Decimal("10.0000")}
    assert compare_holdings(snapshot(BTC="10.4995"), holding, first) == ([], {})
    breaks, _ = compare_holdings(snapshot(BTC="10.5995"), holding, first)
    assert [(b.kind, b.subject, b.explained) for b in breaks] == [("holding", "BTC", False)]
    assert "venue holds 10.5995" in breaks[0].text and "say 10.4995" in breaks[0].text
