"""Signal orders as parents: the configured algorithm on the OrderRequest, and nobody waits for them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.order_request_pb2 import ExecutionAlgorithm, OrderRequest
from kestrel_messaging import Delivery, InMemoryBus
from kestrel_risk.handlers import DecisionPublisher, RiskChannels, SignalsHandler
from kestrel_risk.service import build_engine
from kestrel_risk.settings import RiskSettings
from kestrel_risk.testing import T0, FakeKillSwitch, FakeStore, make_signal


def risk_settings(**overrides: Any) -> RiskSettings:
    return RiskSettings(risk_initial_cash=Decimal(100_000), **overrides)


async def orders_for(**overrides: Any) -> tuple[list[OrderRequest], bool]:
    settings = risk_settings(**overrides)
    engine, bus, channels = build_engine(settings), InMemoryBus(), RiskChannels.registered()
    publisher = DecisionPublisher(bus, channels, settings.algorithm())
    handler = SignalsHandler(engine, FakeStore(), publisher, FakeKillSwitch(False), clock=lambda: T0)
    signal = make_signal()
    await handler([Delivery(channel("trading.signals"), signal, None, {}, signal.SerializeToString(), "0")])
    orders = [OrderRequest.FromString(r.data) for r in bus.records(channels.orders)]
    return orders, engine.book.working.due_before(signal.ts_event + 1)


async def test_an_immediate_plan_sends_plain_orders_that_later_signals_wait_for() -> None:
    (order,), awaited = await orders_for()
    assert not order.HasField("algorithm") and awaited


async def test_a_twap_plan_makes_parents_nobody_waits_for() -> None:
    (order,), awaited = await orders_for(
        risk_execution_algorithm="twap", risk_algo_duration_s=60, risk_algo_slices=4
    )
    assert order.algorithm.algorithm == ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP
    assert (order.algorithm.duration_ns, order.algorithm.slices) == (60_000_000_000, 4)
    assert not awaited


async def test_an_iceberg_plan_shows_its_fraction_of_the_order() -> None:
    (order,), _ = await orders_for(risk_execution_algorithm="iceberg", risk_iceberg_display_fraction="0.25")
    assert order.algorithm.algorithm == ExecutionAlgorithm.EXECUTION_ALGORITHM_ICEBERG
    assert Decimal(order.algorithm.display_quantity) == Decimal(order.quantity) / 4


@pytest.mark.parametrize(
    "bad",
    [
        {"risk_execution_algorithm": "vwap"},
        {"risk_algo_slices": 1},
        {"risk_algo_duration_s": 0},
        {"risk_iceberg_display_fraction": "1.5"},
    ],
)
def test_an_algorithm_that_cannot_run_is_refused_at_start(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        risk_settings(**bad)
