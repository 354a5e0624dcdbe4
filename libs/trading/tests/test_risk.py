from dataclasses import replace
from decimal import Decimal

import pytest

from kestrel_trading.domain import Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.risk import OrderIntent, RiskLimits, RiskReason, RiskState, evaluate

D = Decimal
NOW = 1_700_000_000_000_000_000
SEC = 1_000_000_000

LIMITS = RiskLimits(
    max_position_notional=D(50_000),
    max_gross_exposure=D(80_000),
    max_order_notional=D(20_000),
    max_orders_per_minute=5,
    daily_loss_limit=D(1_000),
    max_drawdown=D("0.10"),
)
STATE = RiskState(
    positions={"BTC/USDT": D("0.5"), "ETH/USDT": D(10)},
    marks={"BTC/USDT": D(40_000), "ETH/USDT": D(2_000)},
    equity=D(100_000),
    equity_peak=D(100_000),
    realized_pnl_today=D(0),
)
BUY = OrderIntent("BTC/USDT", Side.BUY, D("0.1"), D(40_000))  # 4_000 notional; position -> 24_000


def test_a_clean_order_is_approved_with_every_check_recorded() -> None:
    decision = evaluate(BUY, STATE, LIMITS, NOW)
    assert decision.approved
    assert decision.reasons == ()
    assert decision.reason is None
    assert decision.message == "approved"
    assert [c.name for c in decision.checks] == [
        "kill_switch", "max_position", "max_gross_exposure", "max_order_notional",
        "order_rate_limit", "daily_loss_limit", "drawdown_circuit_breaker", "zero_quantity",
    ]  # fmt: skip
    assert all(c.passed for c in decision.checks)


# Each case trips exactly one check.
CASES = [
    (RiskReason.KILL_SWITCH, BUY, replace(STATE, kill_switch=True), LIMITS),
    (RiskReason.MAX_POSITION, BUY, STATE, replace(LIMITS, max_position_notional=D(23_000))),
    (RiskReason.MAX_GROSS_EXPOSURE, BUY, STATE, replace(LIMITS, max_gross_exposure=D(43_000))),
    (RiskReason.MAX_ORDER_NOTIONAL, BUY, STATE, replace(LIMITS, max_order_notional=D(3_999))),
    (
        RiskReason.ORDER_RATE_LIMIT,
        BUY,
        replace(STATE, recent_order_ts_ns=[NOW - i * SEC for i in range(5)]),
        LIMITS,
    ),
    (
        RiskReason.DAILY_LOSS_LIMIT,
        BUY,
        replace(STATE, realized_pnl_today=D(-700), unrealized_pnl=D(-300)),
        LIMITS,
    ),
    (
        RiskReason.DRAWDOWN_CIRCUIT_BREAKER,
        BUY,
        replace(STATE, equity=D(90_000), equity_peak=D(100_000)),
        LIMITS,
    ),
    (RiskReason.ZERO_QUANTITY, replace(BUY, quantity=D(0)), STATE, LIMITS),
]


@pytest.mark.parametrize(("reason", "intent", "state", "limits"), CASES, ids=[c[0].name for c in CASES])
def test_each_check_triggers_alone(
    reason: RiskReason, intent: OrderIntent, state: RiskState, limits: RiskLimits
) -> None:
    decision = evaluate(intent, state, limits, NOW)
    assert not decision.approved
    assert decision.reasons == (reason,)
    assert reason.name in decision.message
    failed = [c for c in decision.checks if not c.passed]
    assert len(failed) == 1


def test_per_symbol_position_limit_overrides_the_default() -> None:
    limits = replace(LIMITS, position_limits={"BTC/USDT": D(10_000)})
    decision = evaluate(BUY, STATE, limits, NOW)
    assert decision.reasons == (RiskReason.MAX_POSITION,)
    check = next(c for c in decision.checks if c.name == "max_position")
    assert (check.limit, check.observed) == ("10000", "24000.0")


def test_every_violation_is_reported_in_enum_order() -> None:
    state = replace(
        STATE,
        kill_switch=True,
        realized_pnl_today=D(-5_000),
        equity=D(50_000),
        recent_order_ts_ns=[NOW] * 10,
    )
    big = replace(BUY, quantity=D(3))  # 120_000 notional
    decision = evaluate(big, state, LIMITS, NOW)
    assert decision.reasons == (
        RiskReason.KILL_SWITCH,
        RiskReason.MAX_POSITION,
        RiskReason.MAX_GROSS_EXPOSURE,
        RiskReason.MAX_ORDER_NOTIONAL,
        RiskReason.ORDER_RATE_LIMIT,
        RiskReason.DAILY_LOSS_LIMIT,
        RiskReason.DRAWDOWN_CIRCUIT_BREAKER,
    )
    assert decision.reason is RiskReason.KILL_SWITCH


def test_orders_older_than_a_minute_do_not_count_toward_the_rate() -> None:
    old = [NOW - 60 * SEC - i for i in range(50)]
    assert evaluate(BUY, replace(STATE, recent_order_ts_ns=old), LIMITS, NOW).approved


def test_breakers_let_a_reducing_order_through_but_not_the_kill_switch() -> None:
    tripped = replace(STATE, realized_pnl_today=D(-5_000), equity=D(50_000))
    reduce = OrderIntent("BTC/USDT", Side.SELL, D("0.2"), D(40_000))
    assert evaluate(reduce, tripped, replace(LIMITS, max_position_notional=D(1)), NOW).approved
    killed = evaluate(reduce, replace(tripped, kill_switch=True), LIMITS, NOW)
    assert killed.reasons == (RiskReason.KILL_SWITCH,)


def test_a_sell_that_flips_into_a_larger_short_is_an_increase() -> None:
    flip = OrderIntent("BTC/USDT", Side.SELL, D("1.5"), D(10_000))  # 0.5 long -> 1.0 short
    decision = evaluate(flip, STATE, replace(LIMITS, max_position_notional=D(9_000)), NOW)
    assert decision.reasons == (RiskReason.MAX_POSITION,)


def test_exchange_filters_are_checked_when_an_instrument_is_given(btc: Instrument) -> None:
    off_tick = replace(BUY, reference_price=D("40000.001"))
    decision = evaluate(off_tick, STATE, LIMITS, NOW, instrument=btc)
    assert decision.reasons == (RiskReason.EXCHANGE_FILTER,)
    check = next(c for c in decision.checks if c.name == "exchange_filter")
    assert check.observed == "PRICE_FILTER"
    assert "tick size" in check.detail
    assert evaluate(BUY, STATE, LIMITS, NOW, instrument=btc).approved


def test_a_held_symbol_without_a_mark_is_an_error_not_a_silent_zero() -> None:
    state = replace(STATE, marks={"BTC/USDT": D(40_000)})
    with pytest.raises(ValueError, match="ETH/USDT"):
        evaluate(BUY, state, LIMITS, NOW)


@pytest.mark.parametrize(
    ("qty", "price", "match"),
    [(D(-1), D(1), "quantity"), (D(1), D(0), "reference_price"), (D("NaN"), D(1), "finite")],
)
def test_malformed_intents_raise_instead_of_being_judged(qty: Decimal, price: Decimal, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        OrderIntent("BTC/USDT", Side.BUY, qty, price)
