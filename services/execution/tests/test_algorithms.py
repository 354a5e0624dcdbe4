"""The parent-order algorithms (pure): TWAP and iceberg slicing, the parent derived from its children."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kestrel_contracts.v1.order_request_pb2 import AlgorithmSpec, ExecutionAlgorithm
from kestrel_execution.algorithms import (
    Algorithm,
    AlgoSpec,
    Child,
    ParentOrder,
    parent_report,
    parse_spec,
    plan,
    settle,
    slippage_bps,
)
from kestrel_execution.reports import OrderMeta
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order, OrderStatus, OrderType

_BTC = InstrumentCatalog.builtin().get("BTC/USDT")
assert _BTC is not None
BTC: Instrument = _BTC
MIN = 60 * 1_000_000_000
T0 = 1_700_000_000 * 1_000_000_000
D = Decimal


def parent(quantity: str = "1", spec: AlgoSpec | None = None, **order: object) -> ParentOrder:
    meta = OrderMeta("p-1", "acct", "s", "BTC/USDT", "BINANCE", "1m", "paper", "e", "", "USDT")
    base = Order("p-1", "BTC/USDT", Side.BUY, OrderType.MARKET, D(quantity))
    twap = AlgoSpec(Algorithm.TWAP, duration_ns=4 * MIN, slices=4)
    return ParentOrder(meta, replace(base, **order), spec or twap, T0, D("100"), 1)  # type: ignore[arg-type]


def filled(index: int, quantity: str, price: str = "100") -> Child:
    q = D(quantity)
    return Child(index, q, q, q * D(price), D(0), OrderStatus.FILLED)


def ended(index: int, quantity: str, status: OrderStatus, reason: str = "") -> Child:
    return Child(index, D(quantity), D(0), D(0), D(0), status, reason)


def test_an_unset_or_immediate_algorithm_is_no_parent_and_a_bad_spec_is_refused() -> None:
    assert parse_spec(AlgorithmSpec()) is None
    assert parse_spec(AlgorithmSpec(algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_IMMEDIATE)) is None
    twap = ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP
    assert parse_spec(AlgorithmSpec(algorithm=twap, duration_ns=MIN, slices=3)) == AlgoSpec(
        Algorithm.TWAP, duration_ns=MIN, slices=3
    )
    for bad in (
        AlgorithmSpec(algorithm=twap, slices=3),
        AlgorithmSpec(algorithm=twap, duration_ns=MIN, slices=1),
        AlgorithmSpec(algorithm=twap, duration_ns=MIN, slices=1001),
        AlgorithmSpec(algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_ICEBERG, display_quantity="x"),
        AlgorithmSpec(algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_ICEBERG, display_quantity="0"),
        AlgorithmSpec(algorithm=99),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError):
            parse_spec(bad)


def test_twap_sends_each_slice_when_it_is_due_and_the_last_takes_the_rest() -> None:
    p = parent("1", AlgoSpec(Algorithm.TWAP, duration_ns=3 * MIN, slices=3))
    assert plan(p, [], T0 - 1, BTC, halted=False) == []  # before arrival
    (first,) = plan(p, [], T0, BTC, halted=False)
    assert (first.index, first.quantity, first.ts_event_ns) == (0, D("0.3333"), T0)
    kids = [filled(0, "0.3333")]
    assert plan(p, kids, T0 + MIN - 1, BTC, halted=False) == []
    late = plan(p, kids, T0 + 10 * MIN, BTC, halted=False)  # the runner was away: both due slices
    assert [(s.index, s.quantity, s.ts_event_ns) for s in late] == [
        (1, D("0.3333"), T0 + MIN),
        (2, D("0.3334"), T0 + 2 * MIN),
    ]


def test_a_twap_slice_that_would_leave_less_than_a_lot_takes_the_rest() -> None:
    p = parent("0.0003", AlgoSpec(Algorithm.TWAP, duration_ns=4 * MIN, slices=4))
    sent = plan(p, [], T0 + 4 * MIN, BTC, halted=False)
    assert [(s.index, s.quantity) for s in sent] == [(1, D("0.0001")), (2, D("0.0001")), (3, D("0.0001"))]


def test_a_twap_child_that_ended_unfilled_leaves_its_quantity_to_the_next_slice() -> None:
    p = parent("1")
    kids = [ended(0, "0.25", OrderStatus.REJECTED, "EXECUTION_REASON_VENUE_REJECTED")]
    (second,) = plan(p, kids, T0 + MIN, BTC, halted=False)
    assert (second.index, second.quantity) == (1, D("0.5"))
    working = [filled(0, "0.25"), Child(1, D("0.25"), D(0), D(0), D(0), OrderStatus.NEW)]
    (third,) = plan(p, working, T0 + 2 * MIN, BTC, halted=False)
    assert third.quantity == D("0.25")  # a working child still holds its whole quantity


def test_nothing_is_sent_while_halted_after_expiry_or_after_a_kill_switch_cancel() -> None:
    p = parent("1")
    assert plan(p, [], T0, BTC, halted=True) == []
    assert plan(parent("1", expire_at_ns=T0), [], T0, BTC, halted=False) == []
    stopped = [ended(0, "0.25", OrderStatus.CANCELED, "EXECUTION_REASON_KILL_SWITCH")]
    assert plan(p, stopped, T0 + 3 * MIN, BTC, halted=False) == []


def test_the_parent_is_derived_from_its_children_and_ends_filled_expired_or_canceled() -> None:
    p = parent("1")
    kids = [filled(0, "0.25", "100"), filled(1, "0.25", "102")]
    partly = settle(p, kids, T0 + MIN, halted=False, planned=False)
    assert partly is not None and partly.order.status is OrderStatus.PARTIALLY_FILLED
    assert (partly.order.filled_quantity, partly.order.average_price, partly.sequence) == (
        D("0.5"),
        D(101),
        2,
    )
    assert settle(partly, kids, T0 + MIN, halted=False, planned=False) is None  # nothing new: no report
    done = settle(p, [*kids, filled(2, "0.25"), filled(3, "0.25")], T0 + 3 * MIN, halted=False, planned=False)
    assert done is not None and done.order.status is OrderStatus.FILLED
    short = [*kids, filled(2, "0.25"), ended(3, "0.25", OrderStatus.EXPIRED, "EXECUTION_REASON_EXPIRED")]
    expired = settle(p, short, T0 + 3 * MIN, halted=False, planned=False)
    assert expired is not None and expired.order.status is OrderStatus.EXPIRED
    assert expired.reason_text == "the schedule ended with 0.25 unfilled"
    canceled = settle(p, kids, T0 + MIN, halted=True, planned=False)
    assert canceled is not None and canceled.order.status is OrderStatus.CANCELED
    assert canceled.order.reason == "EXECUTION_REASON_KILL_SWITCH"
    sending = settle(p, kids, T0 + 3 * MIN, halted=False, planned=True)
    assert sending is not None and sending.order.status is OrderStatus.PARTIALLY_FILLED  # still sending: open


def test_an_iceberg_shows_one_child_at_a_time_and_a_rejected_child_ends_it() -> None:
    p = parent("1", AlgoSpec(Algorithm.ICEBERG, display_quantity=D("0.4")))
    (first,) = plan(p, [], T0, BTC, halted=False)
    assert (first.index, first.quantity) == (0, D("0.4"))
    working = [Child(0, D("0.4"), D("0.1"), D(10), D(0), OrderStatus.PARTIALLY_FILLED)]
    assert plan(p, working, T0 + MIN, BTC, halted=False) == []
    kids = [filled(0, "0.4"), filled(1, "0.4")]
    (last,) = plan(p, kids, T0 + 2 * MIN, BTC, halted=False)
    assert (last.index, last.quantity) == (2, D("0.2"))
    rejected = [filled(0, "0.4"), ended(1, "0.4", OrderStatus.REJECTED, "EXECUTION_REASON_MIN_NOTIONAL")]
    assert plan(p, rejected, T0 + MIN, BTC, halted=False) == []
    out = settle(p, rejected, T0 + MIN, halted=False, planned=False)
    assert out is not None and out.order.status is OrderStatus.EXPIRED
    assert out.order.reason == "EXECUTION_REASON_MIN_NOTIONAL" and "child 1 was rejected" in out.reason_text


def test_slippage_is_against_the_arrival_price_and_positive_when_worse_for_the_trader() -> None:
    assert slippage_bps(Side.BUY, D("101"), D("100")) == D("100.00")
    assert slippage_bps(Side.SELL, D("101"), D("100")) == D("-100.00")
    assert slippage_bps(Side.BUY, None, D("100")) is None
    assert slippage_bps(Side.BUY, D("101"), None) is None
    p = settle(parent("1"), [filled(0, "0.5", "100.5")], T0, halted=False, planned=False)
    assert p is not None
    report = parent_report(p, T0)
    assert (report.arrival_price, report.slippage_bps, len(report.fills)) == ("100", "50", 0)
    assert report.algorithm == ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.integers(min_value=1, max_value=10**7).map(lambda n: D(n) / D(10**4)),  # lots of 0.0001
    slices=st.integers(min_value=2, max_value=40),
    steps=st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=30),
)
def test_a_fully_filling_twap_sends_exactly_the_quantity_each_slice_once(
    quantity: Decimal, slices: int, steps: list[int]
) -> None:
    """Whenever the runner wakes, the children it sends add up to the parent, no index twice."""
    p = parent(str(quantity), AlgoSpec(Algorithm.TWAP, duration_ns=slices * MIN, slices=slices))
    kids: list[Child] = []
    now = T0
    for step in [*steps, slices]:  # the last wake-up is after the schedule
        now += step * MIN
        for piece in plan(p, kids, now, BTC, halted=False):
            assert piece.quantity > 0 and piece.quantity % BTC.step_size == 0
            kids.append(filled(piece.index, str(piece.quantity)))
    indexes = [k.index for k in kids]
    assert indexes == sorted(set(indexes)) and all(k.quantity >= BTC.min_qty for k in kids)
    assert sum(k.quantity for k in kids) == quantity
    out = settle(p, kids, now, halted=False, planned=False)
    assert out is not None and out.order.status is OrderStatus.FILLED
