"""The fake exchange's matching engine on its own: sweeps, partial fills, IOC/FOK, resting orders and
outside trades, commissions in the received asset, balances and locks, and every order filter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kestrel_testing.fake_binance_data import SymbolSpec
from kestrel_testing.fake_binance_matching import FakeExchange
from kestrel_testing.fake_binance_model import OrderRequest
from kestrel_testing.fake_binance_rest import RejectedRequestError

NOW = 1_704_067_200_000
D = Decimal


def make(
    *specs: SymbolSpec, usdt: str = "100000", btc: str = "0"
) -> tuple[FakeExchange, list[dict[str, Any]]]:
    symbols = {s.symbol: s for s in specs} or {"BTCUSDT": SymbolSpec.guess("BTCUSDT")}
    exchange = FakeExchange(symbols, {"USDT": usdt, "BTC": btc}, clock=lambda: NOW)
    events: list[dict[str, Any]] = []
    exchange.add_listener(events.append)
    return exchange, events


def limit(side: str, qty: str, price: str, tif: str = "GTC", coid: str | None = None) -> OrderRequest:
    return OrderRequest(
        "BTCUSDT", side, "LIMIT", D(qty), price=D(price), time_in_force=tif, client_order_id=coid
    )


def market(side: str, qty: str | None = None, quote: str | None = None) -> OrderRequest:
    return OrderRequest(
        "BTCUSDT", side, "MARKET", D(qty) if qty else None, quote_order_qty=D(quote) if quote else None
    )


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["x"] if e["e"] == "executionReport" else e["e"] for e in events]


def test_market_buy_sweeps_levels_one_trade_per_level_and_pays_commission_in_base() -> None:
    exchange, events = make()
    exchange.set_book("BTCUSDT", asks=[("101", "2"), ("100", "1")], bids=[("99", "1")])
    placed = exchange.place(market("BUY", qty="2.5"))
    assert [(f.price, f.qty, f.commission, f.commission_asset, f.trade_id) for f in placed.fills] == [
        (D("100"), D("1"), D("0.00100000"), "BTC", 1),
        (D("101"), D("1.5"), D("0.00150000"), "BTC", 2),
    ]
    order = placed.order
    assert (order.status, order.executed_qty, order.cumulative_quote_qty) == ("FILLED", D("2.5"), D("251.5"))
    balances = exchange.balances()
    assert balances["USDT"].free == D("99748.5") and balances["BTC"].free == D("2.4975")
    assert exchange.book("BTCUSDT") == ([(D("99"), D("1"))], [(D("101"), D("0.5"))])
    assert kinds(events) == ["NEW", "TRADE", "TRADE", "outboundAccountPosition"]
    assert [e["X"] for e in events[:3]] == ["NEW", "PARTIALLY_FILLED", "FILLED"]
    assert events[3]["B"] == [
        {"a": "USDT", "f": "99748.50000000", "l": "0.00000000"},
        {"a": "BTC", "f": "2.49750000", "l": "0.00000000"},
    ]


def test_market_remainder_the_book_cannot_fill_expires() -> None:
    exchange, events = make()
    exchange.set_book("BTCUSDT", asks=[("100", "1")])
    order = exchange.place(market("BUY", qty="3")).order
    assert (order.status, order.executed_qty, order.orig_qty) == ("EXPIRED", D("1"), D("3"))
    assert kinds(events) == ["NEW", "TRADE", "EXPIRED", "outboundAccountPosition"]
    assert exchange.book("BTCUSDT") == ([], [])


def test_market_sell_by_quote_amount_rounds_to_the_step_and_charges_commission_in_quote() -> None:
    exchange, _ = make(btc="2")
    exchange.set_book("BTCUSDT", bids=[("100", "1"), ("99", "1")])
    placed = exchange.place(market("SELL", quote="150"))
    assert [(f.price, f.qty) for f in placed.fills] == [(D("100"), D("1")), (D("99"), D("0.50505"))]
    assert [(f.commission, f.commission_asset) for f in placed.fills] == [
        (D("0.10000000"), "USDT"),
        (D("0.04999995"), "USDT"),
    ]
    assert placed.order.status == "FILLED" and placed.order.orig_quote_qty == D("150")
    balances = exchange.balances()
    assert balances["BTC"].free == D("0.49495")
    assert balances["USDT"].free == D("100000") + D("149.99995") - D("0.14999995")


def test_ioc_takes_what_crosses_and_expires_the_rest_without_locking() -> None:
    exchange, events = make()
    exchange.set_book("BTCUSDT", asks=[("100", "1"), ("102", "1")])
    placed = exchange.place(limit("BUY", "2", "101", "IOC"))
    assert [(f.price, f.qty, f.is_maker) for f in placed.fills] == [(D("100"), D("1"), False)]
    assert placed.order.status == "EXPIRED" and exchange.open_orders() == []
    assert exchange.balances()["USDT"] == exchange.account.balance("USDT")
    assert exchange.balances()["USDT"].locked == 0
    assert kinds(events) == ["NEW", "TRADE", "EXPIRED", "outboundAccountPosition"]


def test_fok_is_all_or_nothing() -> None:
    exchange, events = make()
    exchange.set_book("BTCUSDT", asks=[("100", "1"), ("102", "1")])
    nothing = exchange.place(limit("BUY", "2", "101", "FOK"))
    assert (nothing.order.status, nothing.fills) == ("EXPIRED", [])
    assert kinds(events) == ["NEW", "EXPIRED"]  # no balance moved: no account event
    assert exchange.book("BTCUSDT")[1] == [(D("100"), D("1")), (D("102"), D("1"))]
    everything = exchange.place(limit("BUY", "1.5", "102", "FOK"))
    assert everything.order.status == "FILLED" and [f.qty for f in everything.fills] == [D("1"), D("0.5")]


def test_gtc_remainder_rests_locked_and_fills_as_maker_when_the_market_trades_through() -> None:
    exchange, events = make()
    exchange.set_book("BTCUSDT", asks=[("100", "1")])
    placed = exchange.place(limit("BUY", "3", "100.50", coid="rest-1"))
    order = placed.order
    assert (order.status, order.is_working, order.remaining) == ("PARTIALLY_FILLED", True, D("2"))
    usdt = exchange.balances()["USDT"]
    assert (usdt.free, usdt.locked) == (D("99699"), D("201"))
    assert exchange.trade_through("BTCUSDT", "101", "5") == []  # above the buy: not crossed
    fills = exchange.trade_through("BTCUSDT", "100.40", "1.5")
    assert [(f.price, f.qty, f.is_maker, f.is_buyer, f.trade_id) for f in fills] == [
        (D("100.50"), D("1.5"), True, True, 2)
    ]
    assert exchange.balances()["USDT"].locked == D("50.25")
    assert exchange.balances()["BTC"].free == D("0.999") + D("1.4985")
    maker_report = [e for e in events if e["e"] == "executionReport"][-1]
    assert (maker_report["x"], maker_report["X"], maker_report["m"], maker_report["w"]) == (
        "TRADE",
        "PARTIALLY_FILLED",
        True,
        True,
    )
    canceled = exchange.cancel("BTCUSDT", orig_client_order_id="rest-1", new_client_order_id="cxl-1")
    assert (canceled.status, canceled.cancel_client_order_id) == ("CANCELED", "cxl-1")
    usdt = exchange.balances()["USDT"]
    assert (usdt.free, usdt.locked) == (D("100000") - D("100") - D("150.75"), D("0"))
    assert exchange.order_by_client_id("rest-1") is canceled


def test_resting_sell_locks_base_and_a_maker_sell_receives_quote_minus_commission() -> None:
    exchange, _ = make(btc="1")
    exchange.place(limit("SELL", "1", "200"))
    btc = exchange.balances()["BTC"]
    assert (btc.free, btc.locked) == (D("0"), D("1"))
    (fill,) = exchange.trade_through("BTCUSDT", "200", "4")
    assert (fill.qty, fill.commission, fill.commission_asset) == (D("1"), D("0.20000000"), "USDT")
    assert exchange.balances()["USDT"].free == D("100199.8") and exchange.balances()["BTC"].locked == 0
    assert exchange.open_orders("BTCUSDT") == []


def test_insufficient_balance_is_refused_before_anything_happens() -> None:
    exchange, events = make(usdt="50")
    exchange.set_book("BTCUSDT", asks=[("100", "1")])
    for request in (limit("BUY", "1", "100"), market("BUY", qty="1"), limit("SELL", "1", "100")):
        with pytest.raises(RejectedRequestError) as refused:
            exchange.place(request)
        assert (refused.value.code, refused.value.msg) == (
            -2010,
            "Account has insufficient balance for requested action.",
        )
    assert events == [] and exchange.executed_placements == 0


def test_duplicate_client_id_is_refused_among_open_orders_only() -> None:
    exchange, _ = make()
    exchange.place(limit("BUY", "1", "10", coid="same"))
    with pytest.raises(RejectedRequestError) as duplicate:
        exchange.place(limit("BUY", "1", "10", coid="same"))
    assert (duplicate.value.code, duplicate.value.msg) == (-2010, "Duplicate order sent.")
    exchange.cancel("BTCUSDT", orig_client_order_id="same")
    again = exchange.place(limit("BUY", "1", "10", coid="same")).order
    assert again.order_id == 2 and exchange.executed_placements == 2


def test_order_and_trade_ids_increase_per_symbol() -> None:
    eth = SymbolSpec("ETHUSDT", "ETH", "USDT")
    exchange, _ = make(SymbolSpec.guess("BTCUSDT"), eth)
    exchange.set_book("BTCUSDT", asks=[("100", "5")])
    exchange.set_book("ETHUSDT", asks=[("10", "5")])
    first = exchange.place(market("BUY", qty="1"))
    other = exchange.place(OrderRequest("ETHUSDT", "BUY", "MARKET", D("1")))
    second = exchange.place(market("BUY", qty="1"))
    assert [p.order.order_id for p in (first, other, second)] == [1, 1, 2]
    assert [p.fills[0].trade_id for p in (first, other, second)] == [1, 1, 2]
    assert [f.trade_id for f in exchange.trades("BTCUSDT")] == [1, 2]


def test_limit_maker_that_would_take_is_rejected_and_cancel_of_a_closed_order_is_unknown() -> None:
    exchange, _ = make()
    exchange.set_book("BTCUSDT", asks=[("100", "1")])
    maker = OrderRequest("BTCUSDT", "BUY", "LIMIT_MAKER", D("1"), price=D("100"))
    with pytest.raises(RejectedRequestError) as taking:
        exchange.place(maker)
    assert (taking.value.code, taking.value.msg) == (-2010, "Order would immediately match and take.")
    filled = exchange.place(market("BUY", qty="1")).order
    with pytest.raises(RejectedRequestError) as unknown:
        exchange.cancel("BTCUSDT", order_id=filled.order_id)
    assert (unknown.value.code, unknown.value.msg) == (-2011, "Unknown order sent.")


_STRICT = SymbolSpec(
    "BTCUSDT",
    "BTC",
    "USDT",
    min_price="1.00000000",
    max_price="1000.00000000",
    min_qty="0.01000000",
    max_qty="10.00000000",
    step_size="0.01000000",
    max_notional="5000.00000000",
    max_num_orders=2,
    extra_filters=(
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.10000000", "maxQty": "2.00000000", "stepSize": "0"},
    ),
)


@pytest.mark.parametrize(
    ("request_", "failure"),
    [
        (limit("BUY", "1", "100.005"), "PRICE_FILTER"),  # off the tick
        (limit("BUY", "1", "0.50"), "PRICE_FILTER"),  # under minPrice
        (limit("BUY", "1", "1000.01"), "PRICE_FILTER"),  # over maxPrice
        (limit("BUY", "0.015", "100"), "LOT_SIZE"),  # off the step
        (limit("BUY", "0.001", "1000"), "LOT_SIZE"),  # under minQty
        (limit("BUY", "11", "100"), "LOT_SIZE"),  # over maxQty
        (market("BUY", qty="3"), "MARKET_LOT_SIZE"),
        (limit("BUY", "0.04", "100"), "NOTIONAL"),  # 4 < 5
        (limit("BUY", "6", "1000"), "NOTIONAL"),  # 6000 > 5000
        (market("BUY", qty="0.1"), "NOTIONAL"),  # priced at the book: 0.1 * 10 = 1 < 5
    ],
)
def test_each_filter_failure_is_a_minus_1013_naming_the_filter(request_: OrderRequest, failure: str) -> None:
    exchange, events = make(_STRICT)
    exchange.set_book("BTCUSDT", asks=[("10", "100")])
    with pytest.raises(RejectedRequestError) as refused:
        exchange.place(request_)
    assert (refused.value.status, refused.value.code) == (400, -1013)
    assert refused.value.msg == f"Filter failure: {failure}"
    assert events == []


def test_max_num_orders_and_a_stricter_min_notional_filter() -> None:
    exchange, _ = make(_STRICT)
    exchange.place(limit("BUY", "1", "10"))
    exchange.place(limit("BUY", "1", "10"))
    with pytest.raises(RejectedRequestError) as third:
        exchange.place(limit("BUY", "1", "10"))
    assert third.value.msg == "Filter failure: MAX_NUM_ORDERS"
    min_notional = {
        "filterType": "MIN_NOTIONAL",
        "minNotional": "50.0",
        "applyToMarket": True,
        "avgPriceMins": 5,
    }
    strict, _ = make(SymbolSpec("BTCUSDT", "BTC", "USDT", extra_filters=(min_notional,)))
    with pytest.raises(RejectedRequestError) as small:
        strict.place(limit("BUY", "1", "20"))
    assert small.value.msg == "Filter failure: MIN_NOTIONAL"
