"""A signal of a later bar waits for the reports of earlier bars' orders, as exact-mode backtests do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from prometheus_client import REGISTRY

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import ORDER_TYPE_LIMIT, OrderRequest
from kestrel_contracts.v1.risk_decision_pb2 import RISK_OUTCOME_APPROVED, RiskDecision, RiskReason
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_SELL, Signal
from kestrel_messaging import Delivery, InMemoryBus
from kestrel_risk.fill_wait import FillWait
from kestrel_risk.handlers import (
    CommandsHandler,
    DecisionPublisher,
    ReportsHandler,
    RiskChannels,
    SignalsHandler,
)
from kestrel_risk.testing import T0, FakeKillSwitch, FakeStore, fill_report, make_signal
from kestrel_riskengine.engine import RiskEngine

EngineFactory = Callable[..., RiskEngine]
DAY = 86_400 * 10**9
_UUID = "5d2f0e9a-1c3b-4d5e-8f70-112233445566"


class Rig:
    def __init__(self, engine: RiskEngine, timeout_s: float, poll_s: float = 0.01) -> None:
        self.engine, self.bus, self.stop = engine, InMemoryBus(), asyncio.Event()
        self.channels = RiskChannels.registered()
        self.wait = FillWait(engine, timeout_s, self.stop, poll_s=poll_s)
        publisher = DecisionPublisher(self.bus, self.channels)
        kill = FakeKillSwitch()
        self.signals = SignalsHandler(
            engine, FakeStore(), publisher, kill, clock=lambda: T0, fill_wait=self.wait
        )
        self.commands = CommandsHandler(engine, FakeStore(), publisher, kill, clock=lambda: T0)
        self.reports = ReportsHandler(engine, self.wait)

    def decisions(self) -> list[RiskDecision]:
        return [RiskDecision.FromString(r.data) for r in self.bus.records(self.channels.decisions)]

    async def signal(self, *signals: Signal) -> None:
        await self.signals([_delivery(s, "trading.signals") for s in signals])


def _delivery(message: Any, name: str) -> Delivery:
    return Delivery(channel(name), message, None, {}, message.SerializeToString(), "0")


def _reason(decision: RiskDecision) -> str:
    return RiskReason.Name(decision.reason)


def _gave_up(reason: str = "timeout") -> float:
    return REGISTRY.get_sample_value("risk_signals_decided_with_due_orders_total", {"reason": reason}) or 0.0


async def test_a_signal_is_decided_only_after_the_due_fill_is_applied(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), timeout_s=30, poll_s=30)  # only the applied report can wake it in time
    await rig.signal(make_signal())  # day 0: BUY 100, filled at day 1's open
    [bought] = rig.decisions()
    sell = asyncio.create_task(rig.signal(make_signal(SIGNAL_ACTION_SELL, ts_event=T0 + DAY)))
    await asyncio.sleep(0.1)
    assert not sell.done() and len(rig.decisions()) == 1  # held: the buy is still unanswered
    report = fill_report(quantity="100", fill_id=f"{bought.client_order_id}:1")
    await rig.reports(_delivery(report, "execution.reports"))
    await asyncio.wait_for(sell, 1)
    sold = rig.decisions()[-1]
    # Decided before the fill it would sell nothing (a working buy is not sellable): it saw the fill.
    assert sold.outcome == RISK_OUTCOME_APPROVED and sold.quantity == "100"


async def test_on_timeout_it_decides_anyway_counts_and_waits_no_more(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), timeout_s=0.2)
    await rig.signal(make_signal())
    before, started = _gave_up(), asyncio.get_running_loop().time()
    await rig.signal(make_signal(SIGNAL_ACTION_SELL, ts_event=T0 + DAY))
    assert asyncio.get_running_loop().time() - started >= 0.2
    assert _reason(rig.decisions()[-1]) == "RISK_REASON_ZERO_QUANTITY"  # the buy still unfilled
    assert _gave_up() == before + 1
    # The same unanswered order (a lost report) does not hold the next bar again.
    started = asyncio.get_running_loop().time()
    await rig.signal(make_signal(SIGNAL_ACTION_SELL, ts_event=T0 + 2 * DAY))
    assert asyncio.get_running_loop().time() - started < 0.2 and _gave_up() == before + 1


async def test_a_batch_never_waits_for_its_own_unpublished_orders(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), timeout_s=5)
    before = _gave_up()
    day1 = make_signal(SIGNAL_ACTION_SELL, ts_event=T0 + DAY)
    await asyncio.wait_for(rig.signal(make_signal(), day1), 1)
    bought, sold = rig.decisions()
    assert bought.outcome == RISK_OUTCOME_APPROVED and _reason(sold) == "RISK_REASON_ZERO_QUANTITY"
    assert _gave_up() == before


async def test_manual_orders_hold_no_signal(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), timeout_s=5)
    limit = OrderRequest(
        client_order_id="manual-1",
        ts_event=T0,
        symbol="BTC/USDT",
        venue="test",
        side="SIDE_BUY",
        order_type=ORDER_TYPE_LIMIT,
        quantity="5",
        limit_price="90",
    )
    await rig.commands(
        _delivery(OperatorCommand(event_id=_UUID, actor="a", submit_order=limit), "ops.commands")
    )
    assert "manual-1" in rig.engine.book.working
    await asyncio.wait_for(rig.signal(make_signal(ts_event=T0 + DAY)), 1)
    assert len(rig.decisions()) == 2


async def test_a_stop_ends_the_wait_at_once(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), timeout_s=30)
    await rig.signal(make_signal())
    before = _gave_up("stopping")
    sell = asyncio.create_task(rig.signal(make_signal(SIGNAL_ACTION_SELL, ts_event=T0 + DAY)))
    await asyncio.sleep(0.05)
    rig.stop.set()
    await asyncio.wait_for(sell, 1)
    assert len(rig.decisions()) == 2 and _gave_up("stopping") == before + 1


async def test_zero_disables_waiting(make_engine: EngineFactory) -> None:
    rig = Rig(make_engine(), timeout_s=0)
    await rig.signal(make_signal())
    before = _gave_up()
    await asyncio.wait_for(rig.signal(make_signal(SIGNAL_ACTION_SELL, ts_event=T0 + DAY)), 1)
    assert len(rig.decisions()) == 2 and _gave_up() == before
