"""Signal -> sizing -> checks -> Judgement -> OrderRequest, pure (no bus, no store, no Redis)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from kestrel_contracts.events import is_event_id
from kestrel_contracts.v1.common_pb2 import SIDE_BUY
from kestrel_contracts.v1.order_request_pb2 import ORDER_ORIGIN_SIGNAL, ORDER_TYPE_MARKET
from kestrel_contracts.v1.risk_decision_pb2 import RISK_OUTCOME_APPROVED, RISK_OUTCOME_REJECTED
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_SELL, SIGNAL_ACTION_UNSPECIFIED
from kestrel_risk.testing import T0, make_signal
from kestrel_riskengine.engine import RiskEngine
from kestrel_riskengine.judgement import Judgement, signal_client_order_id, to_decision, to_order
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Fill, Side

EngineFactory = Callable[..., RiskEngine]
MINUTE = 60 * 10**9
DAY = 86_400 * 10**9


def buy(engine: RiskEngine, kill: bool = False, **signal: Any) -> Judgement:
    made = make_signal(**signal)
    return engine.decide_signal(made, kill_switch=kill, now_ns=made.ts_event + 5)


def sell(engine: RiskEngine, **signal: Any) -> Judgement:
    made = make_signal(SIGNAL_ACTION_SELL, **signal)
    return engine.decide_signal(made, kill_switch=False, now_ns=made.ts_event + 5)


def hold(engine: RiskEngine, quantity: str, price: str = "100", symbol: str = "BTC/USDT") -> None:
    side = Side.BUY if Decimal(quantity) > 0 else Side.SELL
    fill = Fill(
        f"f-{symbol}-{quantity}", "c", symbol, side, Decimal(price), abs(Decimal(quantity)), Decimal(0), T0
    )
    assert engine.book.apply_fill(fill)


def test_a_buy_is_sized_at_the_fraction_of_equity_and_mapped_to_a_market_order(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine()
    signal = make_signal(price="100")
    judgement = engine.decide_signal(signal, kill_switch=False, now_ns=T0 + 5)
    assert judgement.approved and judgement.reason is None
    assert (judgement.side, judgement.quantity, judgement.notional) == (
        Side.BUY,
        Decimal(100),
        Decimal(10_000),
    )

    order = to_order(judgement)
    assert order.client_order_id == signal_client_order_id("paper", signal.event_id)
    assert (order.origin, order.order_type, order.ts_event) == (ORDER_ORIGIN_SIGNAL, ORDER_TYPE_MARKET, T0)
    assert (order.quantity, order.reference_price, order.side) == ("100", "100", SIDE_BUY)
    assert (order.timeframe, order.symbol, order.account) == ("1d", "BTC/USDT", "paper")
    assert order.signal_event_id == signal.event_id
    decision = to_decision(judgement)
    assert order.risk_decision_event_id == decision.event_id and is_event_id(decision.event_id)
    assert decision.order_event_id == order.event_id
    assert decision.outcome == RISK_OUTCOME_APPROVED and decision.notional == "10000"
    assert decision.checks[0].name == "kill_switch" and all(c.passed for c in decision.checks)


def test_the_client_order_id_is_a_deterministic_short_key_of_signal_and_account(
    make_engine: EngineFactory,
) -> None:
    first, again = buy(make_engine()), buy(make_engine())
    assert first.client_order_id == again.client_order_id
    assert to_decision(first).event_id == to_decision(again).event_id
    assert to_order(first).event_id == to_order(again).event_id
    other_account = buy(make_engine(risk_account="other"))
    other_signal = buy(make_engine(), seed="2")
    assert len({first.client_order_id, other_account.client_order_id, other_signal.client_order_id}) == 3
    assert len(first.client_order_id) <= 36 and first.client_order_id.startswith("sig-")


def test_volatility_targeting_sizes_from_the_signals_volatility(make_engine: EngineFactory) -> None:
    engine = make_engine(
        risk_sizing_method="vol_target", risk_target_annual_vol=Decimal("0.2"), risk_bars_per_year=100
    )
    # 0.02 per bar x sqrt(100) = 20% a year: leverage 1, the whole equity (capped by max leverage 1).
    calm = buy(engine, volatility=0.04)  # 40% a year: half the equity
    assert calm.quantity == Decimal(500)  # 50,000 / 100
    assert (
        buy(make_engine(risk_sizing_method="vol_target"), volatility=0.0).reason
        == "RISK_REASON_ZERO_QUANTITY"
    )


def test_buy_adds_only_up_to_the_sized_target(make_engine: EngineFactory) -> None:
    engine = make_engine()
    hold(engine, "60")
    assert buy(engine).quantity == Decimal(40)  # target 100 units (10% of 100,000 at 100), 60 held
    full = make_engine()
    hold(full, "100")
    assert buy(full).reason == "RISK_REASON_ZERO_QUANTITY"


def test_sell_closes_the_long_and_never_shorts_by_default(make_engine: EngineFactory) -> None:
    flat = sell(make_engine())
    assert flat.reason == "RISK_REASON_ZERO_QUANTITY" and flat.quantity == 0
    engine = make_engine()
    hold(engine, "30")
    closing = sell(engine)
    assert closing.approved and (closing.side, closing.quantity) == (Side.SELL, Decimal(30))


def test_sell_opens_a_short_of_the_sized_amount_when_allowed(make_engine: EngineFactory) -> None:
    engine = make_engine(risk_allow_short=True)
    hold(engine, "30")
    judgement = sell(engine)
    assert judgement.approved and judgement.quantity == Decimal(130)  # close 30, then short 100


def test_the_kill_switch_rejects_first(make_engine: EngineFactory) -> None:
    judgement = buy(make_engine(), kill=True)
    assert judgement.reason == "RISK_REASON_KILL_SWITCH"
    decision = to_decision(judgement)
    assert decision.outcome == RISK_OUTCOME_REJECTED and decision.order_event_id == ""
    assert "kill switch engaged" in judgement.reason_text
    with pytest.raises(ValueError, match="approved no order"):
        to_order(judgement)


@pytest.mark.parametrize(
    ("overrides", "held", "reason"),
    [
        ({"risk_max_position_notional": Decimal(5_000)}, "0", "RISK_REASON_MAX_POSITION"),
        ({"risk_max_order_notional": Decimal(5_000)}, "0", "RISK_REASON_MAX_ORDER_NOTIONAL"),
        ({}, "350@100/ETH", "RISK_REASON_MAX_GROSS_EXPOSURE"),  # 35,000 + 10,000 > 40,000
    ],
)
def test_exposure_limits(
    make_engine: EngineFactory, overrides: dict[str, Any], held: str, reason: str
) -> None:
    engine = make_engine(**overrides)
    if held != "0":
        qty, rest = held.split("@")
        price, symbol = rest.split("/")
        hold(engine, qty, price, symbol)
    judgement = buy(engine)
    assert judgement.reason == reason
    failed = [c for c in judgement.checks if not c.passed]
    assert failed and failed[0].limit and failed[0].observed


def test_the_order_rate_window_is_market_time(make_engine: EngineFactory) -> None:
    engine = make_engine(risk_max_orders_per_minute=2, risk_sizing_fraction=Decimal("0.01"))
    # One symbol each: a second buy of a symbol with a working buy has nothing left to buy.
    approved = [buy(engine, ts_event=T0 + i * 10**9, symbol=f"S{i}/USDT").approved for i in range(3)]
    assert approved == [True, True, False]
    late = buy(engine, ts_event=T0 + 2 * 10**9, symbol="X/USDT")
    assert late.reason == "RISK_REASON_ORDER_RATE_LIMIT"
    assert buy(engine, ts_event=T0 + MINUTE + 10**9, symbol="L/USDT").approved  # a minute on, by market time


def test_daily_loss_counts_realized_pnl_of_the_market_day(make_engine: EngineFactory) -> None:
    engine = make_engine(risk_daily_loss_limit=Decimal(1_000), risk_max_drawdown=Decimal("0.9"))
    hold(engine, "100", "100", "ETH")
    loss = Fill("f-sell", "c", "ETH", Side.SELL, Decimal(80), Decimal(100), Decimal(5), T0)
    engine.book.apply_fill(loss)  # -2,000 realized, -5 fees, today
    assert buy(engine).reason == "RISK_REASON_DAILY_LOSS_LIMIT"
    assert buy(engine, ts_event=T0 + DAY, seed="tomorrow").approved  # a new UTC day of market time


def test_drawdown_from_the_equity_peak_trips_the_breaker(make_engine: EngineFactory) -> None:
    engine = make_engine(risk_daily_loss_limit=Decimal(10**9), risk_max_gross_exposure=Decimal(10**6))
    hold(engine, "500", "100", "ETH")  # 50,000 cash left
    engine.book.mark("ETH", Decimal(150))  # peak: 125,000
    engine.book.mark("ETH", Decimal(90))  # equity 95,000: 24% below the peak
    judgement = buy(engine, symbol="BTC/USDT")
    assert judgement.reason == "RISK_REASON_DRAWDOWN_CIRCUIT_BREAKER"
    engine.book.mark("ETH", Decimal(140))
    assert buy(engine, seed="recovered").approved


def test_unknown_symbol(make_engine: EngineFactory) -> None:
    engine = make_engine()
    engine._catalog = InstrumentCatalog({}, None)  # a catalogue listing nothing and no default
    judgement = buy(engine)
    assert judgement.reason == "RISK_REASON_UNKNOWN_SYMBOL" and judgement.quantity is None
    assert "BTC/USDT" in judgement.reason_text


@pytest.mark.parametrize(
    ("signal", "fragment"),
    [
        (make_signal(SIGNAL_ACTION_UNSPECIFIED), "neither BUY, SELL nor EXIT"),
        (make_signal(price="abc"), "reference_price"),
        (make_signal(price="-5"), "must be > 0"),
        (make_signal(price=""), "reference_price"),
    ],
)
def test_malformed_signals_are_invalid_requests(
    make_engine: EngineFactory, signal: Any, fragment: str
) -> None:
    judgement = make_engine().decide_signal(signal, kill_switch=False, now_ns=T0)
    assert judgement.reason == "RISK_REASON_INVALID_REQUEST"
    assert fragment in judgement.reason_text
    assert to_decision(judgement).reason_text == judgement.reason_text


def test_a_nan_volatility_cannot_be_sized(make_engine: EngineFactory) -> None:
    engine = make_engine(risk_sizing_method="vol_target")
    assert buy(engine, volatility=float("nan")).reason == "RISK_REASON_INVALID_REQUEST"


def test_a_spot_buy_is_capped_by_cash(make_engine: EngineFactory) -> None:
    big = Decimal(10**6)
    engine = make_engine(
        risk_sizing_fraction=Decimal(1),
        risk_max_position_notional=big,
        risk_max_order_notional=big,
        risk_max_gross_exposure=big,
    )
    hold(engine, "900", "100", "ETH")  # 90,000 spent: 10,000 cash left
    judgement = buy(engine)
    assert judgement.approved and judgement.quantity == Decimal(100)


def test_signals_of_one_bar_time_are_sized_alike_in_either_order(make_engine: EngineFactory) -> None:
    """Symbols arrive on different partitions: whichever bar of a time reaches risk first, each
    signal is sized from the other symbol's mark of the bar time before."""

    def quantities(order: list[str]) -> dict[str, Decimal | None]:
        engine = make_engine()
        hold(engine, "50", price="100", symbol="ETH/USDT")
        hold(engine, "2", price="1000", symbol="BTC/USDT")
        engine.mark_signal(make_signal(symbol="ETH/USDT", price="100", ts_event=T0, seed="e0"))
        engine.mark_signal(make_signal(symbol="BTC/USDT", price="1000", ts_event=T0, seed="b0"))
        prices = {"ETH/USDT": "140", "BTC/USDT": "1500"}  # both moved at the next bar
        got = {}
        for symbol in order:
            judgement = buy(engine, symbol=symbol, price=prices[symbol], ts_event=T0 + DAY, seed="1")
            got[symbol] = judgement.quantity
        return got

    assert quantities(["ETH/USDT", "BTC/USDT"]) == quantities(["BTC/USDT", "ETH/USDT"])
