from dataclasses import replace
from decimal import Decimal

import pytest

from kestrel_trading.domain import Bar, Liquidity, Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order, OrderStatus, OrderType, TimeInForce
from kestrel_trading.paper import (
    REASON_EXPIRED,
    REASON_TIME_IN_FORCE,
    PaperConfig,
    WorkingOrder,
    on_bar,
    simulate,
)

D = Decimal
MIN = 60_000_000_000
NO_COSTS = PaperConfig(slippage_bps=D(0), taker_fee_bps=D(0), maker_fee_bps=D(0))


def bar(i: int, o: str, h: str, low: str, c: str, v: str = "1000") -> Bar:
    """Bar i covers [i, i+1) minutes."""
    return Bar(i * MIN, (i + 1) * MIN, D(o), D(h), D(low), D(c), D(v))


# Signal decided on bar 0's close (ts_event = 1 minute): bar 1 is the first that may fill.
SUBMITTED = 1 * MIN
BARS = [
    bar(0, "100", "120", "80", "100"),
    bar(1, "101", "103", "99", "102"),
    bar(2, "102", "104", "96", "97"),
    bar(3, "97", "110", "95", "108"),
]


def market(side: Side = Side.BUY, qty: str = "2") -> Order:
    return Order("sig-1", "BTC/USDT", side, OrderType.MARKET, D(qty))


def limit(price: str, side: Side = Side.BUY, qty: str = "2", tif: TimeInForce = TimeInForce.GTC) -> Order:
    return Order("sig-1", "BTC/USDT", side, OrderType.LIMIT, D(qty), limit_price=D(price), time_in_force=tif)


def test_market_order_fills_at_the_next_bars_open_never_the_submission_bar(btc: Instrument) -> None:
    order, fills = simulate(market(), SUBMITTED, BARS, btc, NO_COSTS)
    assert order.status is OrderStatus.FILLED
    [fill] = fills
    assert fill.price == D("101")
    assert fill.ts_ns == BARS[1].ts_open_ns
    assert fill.fill_id == f"sig-1:{BARS[1].ts_open_ns}"
    assert fill.liquidity is Liquidity.TAKER


def test_a_bar_opening_before_the_decision_never_fills(btc: Instrument) -> None:
    step = on_bar(WorkingOrder(market(), SUBMITTED), BARS[0], btc, NO_COSTS)
    assert step.fill is None
    assert step.working.order.status is OrderStatus.NEW
    assert step.working.bars_seen == 0


@pytest.mark.parametrize(("side", "expected"), [(Side.BUY, D("101.12")), (Side.SELL, D("100.88"))])
def test_slippage_moves_the_fill_against_the_trader_and_rounds_against_too(
    btc: Instrument, side: Side, expected: Decimal
) -> None:
    # 101 x (1 +/- 0.0011) = 101.1111 / 100.8889: rounded UP for a buy, DOWN for a sell (not nearest).
    config = replace(NO_COSTS, slippage_bps=D(11))
    _, [fill] = simulate(market(side), SUBMITTED, BARS, btc, config)
    assert fill.price == expected


def test_fees_are_bps_of_notional_rounded_up_to_quote_precision(btc: Instrument) -> None:
    config = replace(NO_COSTS, taker_fee_bps=D("7.5"))
    _, [fill] = simulate(market(qty="0.003"), SUBMITTED, BARS, btc, config)
    # notional 101 x 0.003 = 0.303; x 7.5 bps = 0.00022725
    assert fill.fee == D("0.00022725")
    _, [fill] = simulate(market(qty="0.001"), SUBMITTED, BARS, btc, config)
    # notional 0.101; x 7.5 bps = 0.00007575
    assert fill.fee == D("0.00007575")
    config = replace(NO_COSTS, taker_fee_bps=D(1))
    _, [fill] = simulate(market(qty="0.001"), SUBMITTED, [bar(1, "101.01", "102", "100", "101")], btc, config)
    # 0.10101 x 0.0001 = 0.000010101 -> rounded up to 0.00001011
    assert fill.fee == D("0.00001011")


def test_limit_buy_fills_only_when_a_later_bar_trades_through(btc: Instrument) -> None:
    # Bar 0 (submission) trades through 97 but must not count; bar 1 low 99 does not reach it;
    # bar 2 low 96 < 97 fills at the limit.
    order, [fill] = simulate(limit("97"), SUBMITTED, BARS, btc, NO_COSTS)
    assert order.status is OrderStatus.FILLED
    assert (fill.price, fill.ts_ns) == (D("97"), BARS[2].ts_close_ns)
    assert fill.liquidity is Liquidity.MAKER


def test_touching_the_limit_is_not_enough(btc: Instrument) -> None:
    order, fills = simulate(limit("99"), SUBMITTED, BARS[:2], btc, NO_COSTS)  # bar 1 low == 99
    assert fills == ()
    assert order.status is OrderStatus.NEW
    sell, fills = simulate(limit("103", Side.SELL), SUBMITTED, BARS[:2], btc, NO_COSTS)  # high == 103
    assert fills == ()
    assert sell.status is OrderStatus.NEW
    _, [fill] = simulate(limit("103", Side.SELL), SUBMITTED, BARS, btc, NO_COSTS)  # bar 2 high 104
    assert fill.ts_ns == BARS[2].ts_close_ns


def test_partial_fills_by_volume_share_carry_the_remainder_to_later_bars(btc: Instrument) -> None:
    bars = [bar(i, "100", "101", "99", "100", v="10") for i in range(1, 5)]
    config = replace(NO_COSTS, max_volume_share=D("0.1"))  # 1 unit per bar
    working = WorkingOrder(market(qty="2.5"), SUBMITTED)
    step = on_bar(working, bars[0], btc, config)
    assert step.fill is not None and step.fill.quantity == D(1)
    assert step.working.order.status is OrderStatus.PARTIALLY_FILLED
    order, fills = simulate(market(qty="2.5"), SUBMITTED, bars, btc, config)
    assert [f.quantity for f in fills] == [D(1), D(1), D("0.5")]
    assert len({f.fill_id for f in fills}) == 3
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == D("2.5")


def test_zero_volume_bar_fills_nothing_under_a_volume_cap(btc: Instrument) -> None:
    config = replace(NO_COSTS, max_volume_share=D("0.5"))
    order, fills = simulate(market(), SUBMITTED, [bar(1, "100", "100", "100", "100", v="0")], btc, config)
    assert fills == ()
    assert order.status is OrderStatus.NEW


def test_order_expires_after_n_eligible_bars(btc: Instrument) -> None:
    config = replace(NO_COSTS, expire_after_bars=2)
    order, fills = simulate(limit("50"), SUBMITTED, BARS, btc, config)
    assert fills == ()
    assert (order.status, order.reason) == (OrderStatus.EXPIRED, REASON_EXPIRED)


def test_order_expires_at_expire_at_ns_without_filling_that_bar(btc: Instrument) -> None:
    order = replace(limit("97"), expire_at_ns=BARS[2].ts_open_ns)
    final, fills = simulate(order, SUBMITTED, BARS, btc, NO_COSTS)
    assert fills == ()
    assert final.status is OrderStatus.EXPIRED


def test_partially_filled_order_can_expire_keeping_its_fills(btc: Instrument) -> None:
    bars = [bar(i, "100", "101", "99", "100", v="10") for i in range(1, 5)]
    config = replace(NO_COSTS, max_volume_share=D("0.1"), expire_after_bars=2)
    order, fills = simulate(market(qty="5"), SUBMITTED, bars, btc, config)
    assert len(fills) == 2
    assert (order.status, order.filled_quantity) == (OrderStatus.EXPIRED, D(2))


def test_ioc_cancels_what_the_first_bar_did_not_fill(btc: Instrument) -> None:
    order, fills = simulate(limit("50", tif=TimeInForce.IOC), SUBMITTED, BARS, btc, NO_COSTS)
    assert fills == ()
    assert (order.status, order.reason) == (OrderStatus.CANCELED, REASON_TIME_IN_FORCE)


def test_fok_fills_all_or_nothing(btc: Instrument) -> None:
    bars = [bar(1, "100", "101", "99", "100", v="10")]
    config = replace(NO_COSTS, max_volume_share=D("0.1"))
    fok = replace(market(qty="2"), time_in_force=TimeInForce.FOK)
    order, fills = simulate(fok, SUBMITTED, bars, btc, config)
    assert fills == ()
    assert order.status is OrderStatus.CANCELED
    order, [fill] = simulate(replace(fok, quantity=D(1)), SUBMITTED, bars, btc, config)
    assert (order.status, fill.quantity) == (OrderStatus.FILLED, D(1))


def test_off_tick_limit_is_rounded_passively_before_testing_trade_through(btc: Instrument) -> None:
    _, [fill] = simulate(limit("97.005"), SUBMITTED, BARS, btc, NO_COSTS)
    assert fill.price == D("97.00")


def test_replaying_the_same_bars_gives_identical_fills(btc: Instrument) -> None:
    config = PaperConfig(slippage_bps=D(5), taker_fee_bps=D(10), max_volume_share=D("0.001"))
    first = simulate(market(qty="3"), SUBMITTED, BARS, btc, config)
    second = simulate(market(qty="3"), SUBMITTED, BARS, btc, config)
    assert first == second
    assert len(first[1]) == 3


def test_terminal_orders_ignore_further_bars(btc: Instrument) -> None:
    order, _ = simulate(market(), SUBMITTED, BARS, btc, NO_COSTS)
    step = on_bar(WorkingOrder(order, SUBMITTED, 1), BARS[2], btc, NO_COSTS)
    assert step.fill is None
    assert step.working.order is order


def test_bad_config_and_bars_are_refused() -> None:
    with pytest.raises(ValueError, match="max_volume_share"):
        PaperConfig(max_volume_share=D(0))
    with pytest.raises(ValueError, match="expire_after_bars"):
        PaperConfig(expire_after_bars=0)
    with pytest.raises(ValueError, match="inconsistent"):
        bar(1, "100", "99", "98", "100")


def test_a_redelivered_bar_is_ignored(btc: Instrument) -> None:
    bars = [bar(1, "100", "101", "99", "100", v="10")]
    config = replace(NO_COSTS, max_volume_share=D("0.1"))
    first = on_bar(WorkingOrder(market(qty="5"), SUBMITTED), bars[0], btc, config)
    again = on_bar(first.working, bars[0], btc, config)
    assert again.fill is None
    assert again.working == first.working
