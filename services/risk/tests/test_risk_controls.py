"""Risk under the production controller: states, run windows, instrument modes, flatten, halts."""

from __future__ import annotations

from typing import Any

import pytest

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AuditEvent
from kestrel_contracts.v1.operator_command_pb2 import Flatten, OperatorCommand
from kestrel_contracts.v1.risk_decision_pb2 import RiskReason
from kestrel_contracts.v1.signal_pb2 import (
    SIGNAL_ACTION_BUY,
    SIGNAL_ACTION_HOLD,
    SIGNAL_ACTION_SELL,
    SignalAction,
)
from kestrel_messaging import Delivery, InMemoryBus
from kestrel_platform.control import ALL, Action, Mode, Process, RunWindow, State
from kestrel_platform.control_events import Halter
from kestrel_platform.control_store import InMemoryControl
from kestrel_risk.controls import DrawdownBreaker, RiskControls, StaleDataWatch, flatten_client_order_id
from kestrel_risk.handlers import (
    CommandsHandler,
    DecisionPublisher,
    ReportsHandler,
    RiskChannels,
    SignalsHandler,
)
from kestrel_risk.testing import T0, FakeKillSwitch, FakeStore, fill_report, make_signal
from kestrel_riskengine.engine import RiskEngine

from .conftest import EngineFactory

ACCOUNT = "paper"


class Rig:
    def __init__(self, engine: RiskEngine, *, stale_after_s: float = 0.0) -> None:
        self.engine, self.bus, self.control = engine, InMemoryBus(), InMemoryControl()
        self.channels = RiskChannels.registered()
        self.clock = 1000.0
        halter = Halter(self.control, self.bus, "risk")
        self.stale = StaleDataWatch(ACCOUNT, halter, stale_after_s, clock=lambda: self.clock)
        controls = RiskControls(self.control, DrawdownBreaker(engine, halter), self.stale)
        publisher = DecisionPublisher(self.bus, self.channels)
        store, kill = FakeStore(), FakeKillSwitch()
        self.signals = SignalsHandler(engine, store, publisher, kill, clock=lambda: T0, controls=controls)
        self.commands = CommandsHandler(engine, store, publisher, kill, clock=lambda: T0, controls=controls)
        self.reports = ReportsHandler(engine, None, controls)

    def published(self, name: str) -> list[Any]:
        target = channel(name)
        return [target.message_type.FromString(r.data) for r in self.bus.records(target)]

    def decisions(self) -> list[tuple[str, str, str]]:
        """(reason, quantity, text) of every decision so far."""
        return [
            (RiskReason.Name(d.reason), d.quantity, d.reason_text) for d in self.published("risk.decisions")
        ]

    async def signal(self, action: SignalAction = SIGNAL_ACTION_BUY, **fields: Any) -> None:
        message = make_signal(action, seed=str(len(self.published("risk.decisions"))), **fields)
        await self.signals([Delivery(channel("trading.signals"), message, None, {}, b"", "0")])

    async def fill(self, side: str, quantity: str, price: str = "100", fill_id: str = "o1:1") -> None:
        report = fill_report(side=side, quantity=quantity, price=price, fill_id=fill_id)
        await self.reports(Delivery(channel("execution.reports"), report, None, {}, b"", "0"))

    async def command(self, command: OperatorCommand) -> None:
        await self.commands(Delivery(channel("ops.commands"), command, None, {}, b"", "0"))


@pytest.fixture
def rig(make_engine: EngineFactory) -> Rig:
    return Rig(make_engine())


async def test_a_paused_account_refuses_orders_with_the_reason_and_trades_again_once_resumed(
    rig: Rig,
) -> None:
    await rig.control.apply(Process.RISK, ACCOUNT, Action.PAUSE, actor="ops", reason="fomc minutes")
    await rig.signal()
    await rig.control.apply(Process.RISK, ACCOUNT, Action.RESUME, actor="ops", reason="done")
    await rig.signal()
    [(paused, qty, text), (approved, _, _)] = rig.decisions()
    assert (paused, qty) == ("RISK_REASON_TRADING_PAUSED", "100")
    assert text == "risk for paper is paused: fomc minutes" and approved == "RISK_REASON_UNSPECIFIED"
    [audit] = rig.published("audit.logs")
    assert (
        audit.attributes["reason"] == "RISK_REASON_TRADING_PAUSED"
        and len(rig.published("execution.orders")) == 1
    )


async def test_a_halted_dependency_halts_risk_and_another_accounts_pause_does_not(rig: Rig) -> None:
    await rig.control.apply(Process.RISK, "other", Action.PAUSE, actor="ops", reason="not ours")
    await rig.signal()
    await rig.control.apply(Process.RECONCILIATION, ALL, Action.HALT, actor="ops", reason="break: 3 BTC")
    await rig.signal()
    [(first, _, _), (second, _, text)] = rig.decisions()
    assert first == "RISK_REASON_UNSPECIFIED" and second == "RISK_REASON_TRADING_HALTED"
    assert text == "reconciliation is halted: break: 3 BTC"


async def test_the_run_window_is_judged_at_the_signals_market_time(rig: Rig) -> None:
    await rig.control.set_window(Process.RISK, RunWindow.parse("mon-fri 09:00-17:00"))
    monday_noon, saturday_noon = 1_765_800_000_000_000_000 + 0, 1_765_627_200_000_000_000  # 2025-12-15/13
    await rig.signal(ts_event=monday_noon)
    await rig.signal(ts_event=saturday_noon)
    [(weekday, _, _), (weekend, _, text)] = rig.decisions()
    assert weekday == "RISK_REASON_UNSPECIFIED" and weekend == "RISK_REASON_TRADING_PAUSED"
    assert text == "risk is outside its run window mon-fri 09:00-17:00"


async def test_reduce_only_clips_a_reversal_to_the_position_and_refuses_an_increase(
    make_engine: EngineFactory,
) -> None:
    rig = Rig(make_engine(risk_allow_short=True))
    await rig.fill("SIDE_BUY", "30")
    await rig.control.set_mode(ACCOUNT, "BTC/USDT", Mode.REDUCE_ONLY, actor="ops", reason="news")
    await rig.signal(SIGNAL_ACTION_SELL)  # sized to a 100 short: 130 to sell, clipped to the 30 held
    await rig.signal(SIGNAL_ACTION_BUY)
    [(sell, sold, _), (buy, _, text)] = rig.decisions()
    assert (sell, sold) == ("RISK_REASON_UNSPECIFIED", "30")
    assert buy == "RISK_REASON_INSTRUMENT_RESTRICTED" and "a BUY would not reduce it" in text


async def test_close_only_refuses_an_entry_and_clips_a_reversal_to_flat(
    make_engine: EngineFactory,
) -> None:
    rig = Rig(make_engine(risk_allow_short=True))
    await rig.fill("SIDE_BUY", "50")
    await rig.control.set_mode(ACCOUNT, "BTC/USDT", Mode.CLOSE_ONLY, actor="ops", reason="delisting")
    await rig.signal(SIGNAL_ACTION_BUY, price="100")  # would top up to the 100 target: refused
    await rig.signal(SIGNAL_ACTION_SELL, price="100")  # a short target: sells 150, clipped to the 50 held
    reasons = [(r, q) for r, q, _ in rig.decisions()]
    assert reasons == [("RISK_REASON_INSTRUMENT_RESTRICTED", "50"), ("RISK_REASON_UNSPECIFIED", "50")]


async def test_flatten_closes_every_position_even_while_halted_and_a_redelivery_repeats_the_ids(
    rig: Rig,
) -> None:
    await rig.fill("SIDE_BUY", "40", fill_id="o1:1")
    await rig.fill("SIDE_BUY", "5", fill_id="o2:1")
    await rig.signal(SIGNAL_ACTION_HOLD)  # the mark the market orders are checked at
    await rig.control.halt(Process.RISK, ACCOUNT, actor="bot", reason="venue errors")
    command = OperatorCommand(
        event_id="8b0e2d52-1111-4b39-9a37-0c3d3b1a0001", ts_event=T0, actor="ops", reason="get out",
        flatten=Flatten(account=ACCOUNT),
    )  # fmt: skip
    await rig.command(command)
    [order] = rig.published("execution.orders")
    assert (order.side, order.quantity, order.symbol, order.requested_by) == (2, "45", "BTC/USDT", "ops")
    assert order.client_order_id.startswith("flat-") and rig.decisions()[0][0] == "RISK_REASON_UNSPECIFIED"
    await rig.command(command)  # redelivered: the working sell already holds the 45, nothing more to close
    await rig.command(OperatorCommand(event_id="x", actor="ops", flatten=Flatten(account="other")))
    assert len(rig.published("risk.decisions")) == 1  # and another account's flatten is not ours
    assert flatten_client_order_id(ACCOUNT, command.event_id, "BTC/USDT") == order.client_order_id


async def test_the_drawdown_breaker_halts_the_account_once_with_a_reason(rig: Rig) -> None:
    await rig.fill("SIDE_BUY", "250", price="100")
    await rig.signal(SIGNAL_ACTION_HOLD, price="10")  # equity 77,500 from a 100,000 peak
    await rig.signal(SIGNAL_ACTION_HOLD, price="9")
    record = (await rig.control.board()).record(Process.RISK, ACCOUNT)
    assert record.state is State.HALTED and record.automated
    assert record.reason.startswith("drawdown circuit breaker: equity 77500.00 is 22.50% below its peak")
    [audit] = [a for a in rig.published("audit.logs") if isinstance(a, AuditEvent)]
    assert (audit.action, audit.account) == ("control.halted", ACCOUNT)
    [command] = rig.published("ops.commands")
    assert command.process_control.automated and command.reason == record.reason
    await rig.signal(SIGNAL_ACTION_SELL, price="9")
    assert rig.decisions()[-1][0] == "RISK_REASON_TRADING_HALTED"


async def test_stale_data_halts_a_running_account_but_not_a_paused_one(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), stale_after_s=60)
    await rig.signal(SIGNAL_ACTION_HOLD)
    rig.clock += 59
    assert not await rig.stale.check(await rig.control.board(), T0)
    await rig.control.apply(Process.RISK, ACCOUNT, Action.PAUSE, actor="ops", reason="maintenance")
    rig.clock += 120
    assert not await rig.stale.check(await rig.control.board(), T0)
    await rig.control.apply(Process.RISK, ACCOUNT, Action.RESUME, actor="ops", reason="back")
    rig.clock += 61
    assert await rig.stale.check(await rig.control.board(), T0)
    record = (await rig.control.board()).record(Process.RISK, ACCOUNT)
    assert record.state is State.HALTED and record.reason.startswith("stale market data: no bar for 61 s")
    assert not await rig.stale.check(await rig.control.board(), T0)  # halted once
    assert len(rig.published("audit.logs")) == 1
