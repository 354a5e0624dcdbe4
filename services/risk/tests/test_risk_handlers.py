"""The consumers on the in-memory bus: what is stored, published and audited for each input."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AUDIT_SEVERITY_CRITICAL, AUDIT_SEVERITY_WARNING
from kestrel_contracts.v1.operator_command_pb2 import KillSwitch, OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import ORDER_ORIGIN_MANUAL, ORDER_TYPE_MARKET, OrderRequest
from kestrel_contracts.v1.risk_decision_pb2 import RISK_OUTCOME_REJECTED, RiskReason
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_HOLD, SIGNAL_ACTION_UNSPECIFIED
from kestrel_messaging import Delivery, InMemoryBus, PermanentError
from kestrel_platform.tracing import get_tracer
from kestrel_risk.handlers import (
    CommandsHandler,
    DecisionPublisher,
    ReportsHandler,
    RiskChannels,
    SignalsHandler,
)
from kestrel_risk.ownership import StrategyFilter
from kestrel_risk.store import storable
from kestrel_risk.testing import T0, FakeKillSwitch, FakeStore, fill_report, make_signal
from kestrel_riskengine.engine import RiskEngine
from kestrel_trading.catalog import InstrumentCatalog

EngineFactory = Callable[..., RiskEngine]


class Rig:
    def __init__(self, engine: RiskEngine, kill: bool = False) -> None:
        self.engine, self.bus, self.store = engine, InMemoryBus(), FakeStore()
        self.kill = FakeKillSwitch(kill)
        self.channels = RiskChannels.registered()
        publisher = DecisionPublisher(self.bus, self.channels)
        self.signals = SignalsHandler(engine, self.store, publisher, self.kill, clock=lambda: T0)
        self.commands = CommandsHandler(engine, self.store, publisher, self.kill, clock=lambda: T0)
        self.reports = ReportsHandler(engine)

    def published(self, which: str) -> list[Any]:
        target = getattr(self.channels, which)
        return [target.message_type.FromString(r.data) for r in self.bus.records(target)]


def delivery(message: Any, name: str = "trading.signals") -> Delivery:
    return Delivery(channel(name), message, None, {}, message.SerializeToString(), "0")


@pytest.fixture
def rig(make_engine: EngineFactory) -> Rig:
    return Rig(make_engine())


async def test_a_buy_becomes_an_order_a_decision_and_stored_rows(rig: Rig) -> None:
    signal = make_signal()
    await rig.signals([delivery(signal)])
    [order] = rig.published("orders")
    [decision] = rig.published("decisions")
    assert order.client_order_id == decision.client_order_id and order.quantity == "100"
    assert order.risk_decision_event_id == decision.event_id and order.signal_event_id == signal.event_id
    assert rig.published("audit") == []
    assert rig.store.signals == [signal] and [j.client_order_id for j in rig.store.judgements] == [
        decision.client_order_id
    ]
    assert rig.kill.reads == 1


async def test_hold_stores_the_signal_and_decides_nothing(rig: Rig) -> None:
    hold = make_signal(SIGNAL_ACTION_HOLD, price="123")
    await rig.signals([delivery(hold)])
    assert rig.published("decisions") == [] and rig.published("orders") == []
    assert rig.store.signals == [hold] and rig.store.judgements == []
    assert rig.engine.book.marks["BTC/USDT"] == 123  # a HOLD still prices the symbol


async def test_a_rejection_is_decided_and_audited_with_its_numbers(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), kill=True)
    signal = make_signal()
    await rig.signals([delivery(signal)])
    assert rig.published("orders") == []
    [decision] = rig.published("decisions")
    assert decision.outcome == RISK_OUTCOME_REJECTED
    assert RiskReason.Name(decision.reason) == "RISK_REASON_KILL_SWITCH"
    [audit] = rig.published("audit")
    assert (audit.action, audit.severity, audit.service) == (
        "risk.order_rejected",
        AUDIT_SEVERITY_WARNING,
        "risk",
    )
    assert audit.subject_id == decision.client_order_id and audit.causation_event_id == signal.event_id
    assert audit.attributes["reason"] == "RISK_REASON_KILL_SWITCH"
    assert audit.attributes["kill_switch.observed"] == "True" and audit.attributes["quantity"] == "100"


async def test_metrics_count_signals_and_rejections_by_reason(make_engine: EngineFactory) -> None:
    def sample(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    rejected = ("orders_rejected_total", {"reason": "RISK_REASON_KILL_SWITCH"})
    holds = ("signals_received_total", {"action": "HOLD"})
    before = sample(*rejected), sample(*holds), sample("risk_decision_time_ms_count", {})
    rig = Rig(make_engine(), kill=True)
    await rig.signals([delivery(make_signal()), delivery(make_signal(SIGNAL_ACTION_HOLD, seed="h"))])
    after = sample(*rejected), sample(*holds), sample("risk_decision_time_ms_count", {})
    assert [b - a for a, b in zip(before, after, strict=True)] == [1.0, 1.0, 1.0]


async def test_malformed_and_unknown_signals_are_rejected_with_an_audit(make_engine: EngineFactory) -> None:
    engine = make_engine()
    engine._catalog = InstrumentCatalog.from_mapping({"symbols": {"BTC/USDT": _filters()}})
    rig = Rig(engine)
    bad = make_signal(SIGNAL_ACTION_UNSPECIFIED)
    unknown = make_signal(symbol="NOPE/USD")
    await rig.signals([delivery(bad), delivery(unknown)])
    reasons = [a.attributes["reason"] for a in rig.published("audit")]
    assert reasons == ["RISK_REASON_INVALID_REQUEST", "RISK_REASON_UNKNOWN_SYMBOL"]
    # Both reach the store; an action-less signal has no trading.signals row (action is NOT NULL).
    assert rig.store.signals == [bad, unknown]
    assert [storable(s) for s in rig.store.signals] == [False, True]


async def test_a_failed_store_write_leaves_the_book_as_it_was(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(risk_max_orders_per_minute=1))
    rig.store.fail = ConnectionError("database down")
    signal = make_signal()
    with pytest.raises(ConnectionError):
        await rig.signals([delivery(signal)])
    assert rig.published("orders") == [] and list(rig.engine.book.order_times) == []
    await rig.signals([delivery(signal)])  # the redelivery is decided against the same state
    assert len(rig.published("orders")) == 1


async def test_fills_from_reports_are_applied_once_and_move_the_next_decision(rig: Rig) -> None:
    report = fill_report(quantity="60", fill_id="o1:1")
    await rig.reports(delivery(report, "execution.reports"))
    await rig.reports(delivery(report, "execution.reports"))  # redelivered
    await rig.reports(delivery(fill_report(account="someone-else", fill_id="o2:1"), "execution.reports"))
    assert rig.engine.book.position("BTC/USDT") == 60
    await rig.signals([delivery(make_signal())])
    [order] = rig.published("orders")
    assert order.quantity == "40"  # up to the 100-unit target


async def test_the_same_venue_trade_id_in_two_orders_is_two_fills(rig: Rig) -> None:
    """Venue trade ids repeat across symbols and orders: a fill is known by its order and trade id."""
    first = fill_report(quantity="10", fill_id="o1:1")
    second = fill_report(quantity="5", fill_id="o2:1")
    second.fills[0].fill_id = first.fills[0].fill_id = "trade-7"
    await rig.reports(delivery(first, "execution.reports"))
    await rig.reports(delivery(second, "execution.reports"))
    await rig.reports(delivery(second, "execution.reports"))  # redelivered: still once
    assert rig.engine.book.position("BTC/USDT") == 15


async def test_a_fill_without_an_id_is_dead_lettered(rig: Rig) -> None:
    with pytest.raises(PermanentError, match="fill_id"):
        await rig.reports(delivery(fill_report(fill_id=""), "execution.reports"))


def _manual(**fields: Any) -> OperatorCommand:
    order = OrderRequest(
        event_id="0b9c8f3e-6a4f-4c8e-9d63-8b1b2a8c9f01",
        ts_event=T0,
        client_order_id="manual-1",
        symbol="BTC/USDT",
        venue="test",
        side="SIDE_BUY",
        order_type=ORDER_TYPE_MARKET,
        quantity="5",
        reference_price="100",
        requested_by="key-7",
    )
    for name, value in fields.items():
        setattr(order, name, value)
    return OperatorCommand(event_id="5d2f0e9a-1c3b-4d5e-8f70-112233445566", ts_event=T0, actor="key-7",
                           submit_order=order)  # fmt: skip


async def test_a_manual_order_passes_the_same_checks_and_goes_to_execution(rig: Rig) -> None:
    await rig.commands(delivery(_manual(), "ops.commands"))
    [order] = rig.published("orders")
    [decision] = rig.published("decisions")
    assert (order.client_order_id, order.quantity, order.origin) == ("manual-1", "5", ORDER_ORIGIN_MANUAL)
    assert order.account == "paper" and order.requested_by == "key-7"
    assert order.risk_decision_event_id == decision.event_id and decision.order_event_id == order.event_id
    assert rig.store.judgements[0].origin == "ORDER_ORIGIN_MANUAL"


async def test_a_manual_sell_of_more_than_is_held_is_insufficient_funds(rig: Rig) -> None:
    await rig.commands(delivery(_manual(side="SIDE_SELL"), "ops.commands"))
    assert rig.published("orders") == []
    [audit] = rig.published("audit")
    assert audit.attributes["reason"] == "RISK_REASON_INSUFFICIENT_FUNDS" and audit.actor == "key-7"


async def test_a_manual_order_without_side_is_invalid(rig: Rig) -> None:
    await rig.commands(delivery(_manual(side=0), "ops.commands"))
    [audit] = rig.published("audit")
    assert audit.attributes["reason"] == "RISK_REASON_INVALID_REQUEST"


async def test_a_kill_switch_command_is_only_audited(rig: Rig) -> None:
    command = OperatorCommand(
        event_id="7e57c0de-0000-4000-8000-000000000001",
        ts_event=T0,
        actor="ops",
        reason="venue incident",
        kill_switch=KillSwitch(engaged=True),
    )
    await rig.commands(delivery(command, "ops.commands"))
    [audit] = rig.published("audit")
    assert (audit.action, audit.severity) == ("risk.kill_switch_engaged", AUDIT_SEVERITY_CRITICAL)
    assert "venue incident" in audit.message and audit.actor == "ops"
    assert rig.published("decisions") == [] and rig.store.judgements == []


async def test_the_signals_consumer_runs_in_batches_on_the_bus(rig: Rig) -> None:
    """Through a real subscription of the in-memory bus: offsets, batches, decoding as in production."""
    signals = channel("trading.signals")
    for i in range(3):
        await rig.bus.publish(signals, make_signal(ts_event=T0 + i * 10**9, symbol=f"S{i}/USDT"))
    await rig.bus.publish_raw(signals, b"\xff not a signal")
    stop = asyncio.Event()
    run = asyncio.create_task(
        rig.bus.subscribe(signals, group="risk", consumer="c").run_batches(rig.signals, stop)
    )
    try:
        for _ in range(100):
            if len(rig.published("decisions")) == 3 and rig.bus.records(signals.dlq):
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await run
    assert len(rig.published("orders")) == 3
    assert len(rig.bus.records(signals.dlq)) == 1


def _filters() -> dict[str, str]:
    return {
        "tick_size": "0.01",
        "step_size": "0.001",
        "min_qty": "0.001",
        "max_qty": "1000",
        "min_notional": "10",
    }


async def test_each_order_and_decision_continue_their_own_signals_trace(rig: Rig, tracing: None) -> None:
    """Two signals of two traces decided in one batch: each output carries its own signal's trace."""
    signals = channel("trading.signals")
    traces = []
    for i in range(2):
        with get_tracer("test").start_as_current_span(f"inference-{i}") as span:
            await rig.bus.publish(signals, make_signal(ts_event=T0 + i * 10**9, symbol=f"S{i}/USDT"))
            traces.append(format(span.get_span_context().trace_id, "032x"))
    stop = asyncio.Event()
    run = asyncio.create_task(
        rig.bus.subscribe(signals, group="risk", consumer="c").run_batches(rig.signals, stop)
    )
    try:
        for _ in range(100):
            if len(rig.bus.records(rig.channels.orders)) == 2:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await run
    for target in (rig.channels.orders, rig.channels.decisions):
        assert [r.headers["traceparent"].split("-")[1] for r in rig.bus.records(target)] == traces


async def test_signals_of_strategies_another_account_trades_are_skipped(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine())
    publisher = DecisionPublisher(rig.bus, rig.channels)
    signals = SignalsHandler(
        rig.engine, rig.store, publisher, rig.kill, clock=lambda: T0, strategies=StrategyFilter.of(["mine"])
    )
    other, mine = make_signal(seed="other"), make_signal(seed="mine")
    other.strategy_id, mine.strategy_id = "theirs:{}", 'mine:{"n":1}'
    before = REGISTRY.get_sample_value("signals_not_owned_total") or 0.0
    await signals([delivery(other)])
    assert rig.store.signals == [] and rig.published("orders") == [] and rig.kill.reads == 0
    await signals([delivery(other), delivery(mine)])
    assert rig.store.signals == [mine] and len(rig.published("orders")) == 1
    assert REGISTRY.get_sample_value("signals_not_owned_total") == before + 2
    with pytest.raises(PermanentError):  # not a signal at all: still refused, never skipped
        await signals([delivery(fill_report(), "execution.reports")])
