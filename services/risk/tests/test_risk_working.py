"""Approved orders that have not filled yet count in sizing, funds and limits (no double buying)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_BUY, SIGNAL_ACTION_SELL, SignalAction
from kestrel_risk.testing import T0, make_signal
from kestrel_riskengine.engine import RiskEngine
from kestrel_riskengine.judgement import Judgement
from kestrel_riskengine.working import WorkingOrder, WorkingOrders
from kestrel_trading.domain import Fill, Side
from kestrel_trading.orders import OrderStatus

EngineFactory = Callable[..., RiskEngine]
DAY = 86_400 * 10**9


def decide(
    engine: RiskEngine, action: SignalAction = SIGNAL_ACTION_BUY, day: int = 0, **signal: Any
) -> Judgement:
    made = make_signal(action, ts_event=T0 + day * DAY, **signal)
    return engine.decide_signal(made, kill_switch=False, now_ns=made.ts_event + 5)


def fill(engine: RiskEngine, j: Judgement, quantity: str | None = None) -> None:
    assert j.side is not None and j.quantity is not None and j.reference_price is not None
    qty = Decimal(quantity) if quantity is not None else j.quantity
    engine.book.apply_fill(
        Fill(
            f"{j.client_order_id}:1",
            j.client_order_id,
            j.symbol,
            j.side,
            j.reference_price,
            qty,
            Decimal(0),
            T0,
        )
    )
    status = OrderStatus.FILLED if qty == j.quantity else OrderStatus.PARTIALLY_FILLED
    engine.book.working.on_report(j.client_order_id, status, qty)


def test_a_second_buy_before_the_first_fills_buys_nothing_more(make_engine: EngineFactory) -> None:
    engine = make_engine()
    first = decide(engine)
    assert first.approved and first.quantity == 100
    again = decide(engine, day=1)
    assert again.reason == "RISK_REASON_ZERO_QUANTITY"  # 100 already on its way to the 100 target
    fill(engine, first)
    assert engine.book.position("BTC/USDT") == 100 and len(engine.book.working) == 0
    assert decide(engine, day=2).reason == "RISK_REASON_ZERO_QUANTITY"  # at target: still nothing


def test_a_partial_fill_keeps_the_rest_working(make_engine: EngineFactory) -> None:
    engine = make_engine()
    first = decide(engine)
    fill(engine, first, "60")
    assert engine.book.projected_position("BTC/USDT") == 100
    assert decide(engine, day=1).reason == "RISK_REASON_ZERO_QUANTITY"
    engine.book.working.on_report(
        first.client_order_id, OrderStatus.CANCELED, Decimal(60)
    )  # the rest expired
    topped = decide(engine, day=2)
    assert topped.approved and topped.quantity == 40


def test_a_rejected_or_expired_order_frees_its_capacity(make_engine: EngineFactory) -> None:
    engine = make_engine()
    first = decide(engine)
    engine.book.working.on_report(first.client_order_id, OrderStatus.REJECTED, Decimal(0))
    second = decide(engine, day=1)
    assert second.approved and second.quantity == 100


def test_a_sell_never_sells_what_a_working_sell_already_sells(make_engine: EngineFactory) -> None:
    engine = make_engine()
    fill(engine, decide(engine))
    close = decide(engine, SIGNAL_ACTION_SELL, day=1)
    assert close.approved and close.quantity == 100
    again = decide(engine, SIGNAL_ACTION_SELL, day=2)
    assert again.reason == "RISK_REASON_ZERO_QUANTITY"
    # A BUY meanwhile re-opens to the target from the flat the working sell leaves.
    reopen = decide(engine, day=3)
    assert reopen.approved and reopen.quantity == 100


def test_a_sell_while_only_a_buy_is_working_sells_nothing(make_engine: EngineFactory) -> None:
    engine = make_engine()
    decide(engine)
    assert decide(engine, SIGNAL_ACTION_SELL, day=1).reason == "RISK_REASON_ZERO_QUANTITY"


def test_working_buys_reserve_cash(make_engine: EngineFactory) -> None:
    # 60% of equity per symbol: the second symbol can only buy with what the first left unreserved.
    engine = make_engine(
        risk_sizing_fraction=Decimal("0.6"),
        risk_max_position_notional=Decimal(10**6),
        risk_max_gross_exposure=Decimal(10**6),
        risk_max_order_notional=Decimal(10**6),
    )
    assert decide(engine, symbol="A/USDT").quantity == 600  # 60,000 reserved
    second = decide(engine, symbol="B/USDT")
    assert second.approved and second.quantity == 400  # the 40,000 left, not 60,000
    assert engine.book.available_cash() == 0


def test_limits_see_the_positions_working_orders_leave(make_engine: EngineFactory) -> None:
    engine = make_engine(risk_max_gross_exposure=Decimal(15_000))
    assert decide(engine, symbol="A/USDT").approved  # 10,000
    second = decide(engine, symbol="B/USDT")
    assert second.reason == "RISK_REASON_MAX_GROSS_EXPOSURE"  # 20,000 once both fill


def test_snapshot_and_restore_undo_working_orders(make_engine: EngineFactory) -> None:
    engine = make_engine()
    saved = engine.book.snapshot()
    decide(engine)
    assert len(engine.book.working) == 1
    engine.book.restore(saved)
    assert len(engine.book.working) == 0 and decide(engine).approved


def test_working_orders_value() -> None:
    orders = WorkingOrders()
    buy = WorkingOrder("b", "X", Side.BUY, Decimal(10), Decimal(5))
    orders.add(buy)
    orders.add(WorkingOrder("b", "X", Side.BUY, Decimal(99), Decimal(5)))  # the same id again: ignored
    orders.add(WorkingOrder("s", "X", Side.SELL, Decimal(4), Decimal(6)))
    assert orders.reserved_cash() == 50 and orders.net_by_symbol() == {"X": Decimal(6)}
    orders.on_report("b", OrderStatus.PARTIALLY_FILLED, Decimal(3))
    orders.on_report("b", OrderStatus.PARTIALLY_FILLED, Decimal(2))  # a stale report never un-fills
    assert orders.pending("X", Side.BUY) == 7 and orders.reserved_cash() == 35
    orders.on_report("unknown", OrderStatus.FILLED, None)
    orders.on_report("s", OrderStatus.EXPIRED, None)
    assert "s" not in orders and orders.pending("X", Side.SELL) == 0


def test_an_order_is_due_for_signals_of_later_bars_until_it_is_answered() -> None:
    orders = WorkingOrders([WorkingOrder("b", "X", Side.BUY, Decimal(10), Decimal(5), decided_at_ns=100)])
    assert not orders.due_before(100)  # its own bar (or another signal of it) never waits for it
    assert orders.due_before(101) and orders.copy().due_before(101)
    assert not orders.due_before(101, since_ns=101)  # given up on
    orders.on_report("b", OrderStatus.PARTIALLY_FILLED, Decimal(4))
    assert orders.due_before(101)  # the rest may still fill
    orders.on_report("b", OrderStatus.FILLED, Decimal(10))
    assert not orders.due_before(101)


def test_orders_without_a_bar_are_never_due() -> None:
    orders = WorkingOrders([WorkingOrder("m", "X", Side.BUY, Decimal(1), Decimal(5))])
    assert not orders.due_before(10**30)


def test_the_engine_stamps_signal_orders_with_their_bar(make_engine: EngineFactory) -> None:
    engine = make_engine()
    decide(engine)
    assert engine.book.working.due_before(T0 + 1) and not engine.book.working.due_before(T0)
