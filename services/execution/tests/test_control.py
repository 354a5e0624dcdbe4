"""Execution under the production controller, on in-memory fakes: intake refuses, working orders are
canceled (by the command and by the next bar), paused keeps them, parents stop, reconciliation and
repeated venue errors halt — once."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AuditEvent
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReason, ExecutionReport
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import AlgorithmSpec, ExecutionAlgorithm, OrderRequest
from kestrel_execution.commands import CommandsHandler
from kestrel_execution.controller import ConsecutiveErrors
from kestrel_execution.handlers import ExecutionContext, OrdersHandler
from kestrel_execution.idempotency import MemoryIdempotency
from kestrel_execution.intake import KILL_SWITCH, TRADING_HALTED, Rejected, intake
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.paper_venue import BarsHandler, PaperVenue, to_domain_bar
from kestrel_execution.parents import ParentRunner
from kestrel_execution.reconcile import VenueOrder, VenueSnapshot
from kestrel_execution.reconciler import Reconciler
from kestrel_execution.reports import OrderMeta
from kestrel_execution.resolver import resolve_unanswered
from kestrel_execution.testing import (
    MINUTE_NS,
    FakeKillSwitch,
    InMemoryExecutionStore,
    bar,
    memory_controller,
    order_request,
)
from kestrel_execution.venue import OutcomeUnknownError, VenueEvent, VenueUnavailableError
from kestrel_messaging import Delivery, InMemoryBus
from kestrel_platform.control import ALL, Action, Board, Effective, Process, State
from kestrel_platform.control_events import publish_change
from kestrel_platform.control_store import InMemoryControl
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.orders import Order
from kestrel_trading.paper import PaperConfig

CATALOG = InstrumentCatalog.builtin()
HALTED = ExecutionReason.EXECUTION_REASON_TRADING_HALTED
LIMIT = {"order_type": "ORDER_TYPE_LIMIT", "limit_price": "90", "quantity": "0.5"}  # rests below the bars


class CountingControl(InMemoryControl):
    reads = 0

    async def board(self) -> Board:
        self.reads += 1
        return await super().board()


class ScriptedVenue(PaperVenue):
    """The paper venue, with submits that fail on request and a book reconciliation compares."""

    def __init__(self) -> None:
        super().__init__(PaperConfig(slippage_bps=Decimal(0)))
        self.failures: list[Exception] = []
        self.book: VenueSnapshot | None = None
        self.submitted: list[str] = []
        self.lost: set[str] = set()  # orders the venue never got: a query finds nothing

    async def submit(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent]:
        self.submitted.append(order.client_order_id)
        if self.failures:
            raise self.failures.pop(0)
        return await super().submit(order, meta)

    async def resolve(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent] | None:
        return None if order.client_order_id in self.lost else await super().resolve(order, meta)

    async def snapshot(self, symbols: Sequence[str], *, orders: bool = True) -> VenueSnapshot | None:
        return self.book


class Rig:
    def __init__(self, *, halt_after: int = 5) -> None:
        self.bus, self.store, self.control = InMemoryBus(), InMemoryExecutionStore(), CountingControl()
        self.venue, self.kill_switch = ScriptedVenue(), FakeKillSwitch()
        self.controller = memory_controller(self.bus, self.control, venue_error_halt_after=halt_after)
        outbox = ReportOutbox(self.store, self.bus, channel("execution.reports"))
        ctx = ExecutionContext(
            self.store, outbox, self.venue, CATALOG, self.kill_switch, "1m", "USD", self.controller
        )
        self.ctx, self.orders = ctx, OrdersHandler(ctx, MemoryIdempotency())
        self.bars = BarsHandler(ctx, self.venue)
        self.commands, self.runner = CommandsHandler(ctx), ParentRunner(ctx)
        self.reconciler = Reconciler(ctx, self.bus)

    async def order(self, *requests: OrderRequest) -> None:
        await self.orders([_delivery("execution.orders", r) for r in requests])

    async def bar(self, index: int, price: str = "100") -> None:
        """Bar `index` closes: stored (the market clock), consumed, then the parent runner's round."""
        message = bar(index, price, price, price, price)
        self.store.bars.setdefault(("BTC/USDT", "1m"), []).append(to_domain_bar(message))
        await self.bars(_delivery("market.bars", message))
        await self.runner.work()

    async def set(self, process: Process, scope: str, action: Action, reason: str = "by hand") -> None:
        """An operator's change, as the gateway makes it: the board first, then the command."""
        change = await self.control.apply(process, scope, action, actor="ops", reason=reason)
        await publish_change(self.bus, change, "gateway")

    def published(self) -> list[OperatorCommand]:
        return [OperatorCommand.FromString(r.data) for r in self.bus.records(channel("ops.commands"))]

    async def deliver_commands(self) -> None:
        for command in self.published():
            await self.commands(_delivery("ops.commands", command))

    def last(self, client_order_id: str) -> ExecutionReport:
        found = [ExecutionReport.FromString(r.data) for r in self.bus.records(channel("execution.reports"))]
        return [r for r in found if r.client_order_id == client_order_id][-1]


def _delivery(name: str, message: Message) -> Delivery:
    return Delivery(channel(name), message, None, {}, message.SerializeToString(), "0")


def test_intake_refuses_when_execution_is_not_running_and_the_kill_switch_keeps_its_reason() -> None:
    paused = Effective(State.PAUSED, "execution is paused: maintenance")
    outcome = intake(order_request(), CATALOG, kill_switch_engaged=False, trading=paused)
    assert outcome == Rejected(TRADING_HALTED, "execution is paused: maintenance")
    both = intake(order_request(), CATALOG, kill_switch_engaged=True, trading=paused)
    assert isinstance(both, Rejected) and both.reason == KILL_SWITCH


async def test_a_new_order_of_a_halted_account_is_rejected_with_the_reason_once_per_batch() -> None:
    rig = Rig()
    await rig.set(Process.EXECUTION, "paper-1", Action.HALT, "drawdown breaker")
    rig.control.reads = 0
    await rig.order(order_request("h-1"), order_request("h-2"), order_request("other-1", account="paper-2"))
    assert rig.control.reads == 1  # one board for the whole batch
    rejected = rig.last("h-1")
    assert (rejected.status, rejected.reason) == (Status.ORDER_STATUS_REJECTED, HALTED)
    assert rejected.reason_text == "execution for paper-1 is halted: drawdown breaker"
    assert rig.store.rejected["h-2"].reason == TRADING_HALTED
    assert rig.last("other-1").status == Status.ORDER_STATUS_NEW  # another account trades on


async def test_a_halted_reconciliation_halts_execution_for_every_account() -> None:
    rig = Rig()
    await rig.set(Process.RECONCILIATION, ALL, Action.HALT, "books differ")
    await rig.order(order_request("r-1", account="paper-9"))
    assert rig.last("r-1").reason_text == "reconciliation is halted: books differ"


async def test_the_paper_venue_cancels_a_stopped_accounts_working_orders_at_the_next_bar() -> None:
    rig = Rig()
    await rig.order(order_request("w-1"), order_request("w-2", account="paper-2"))
    await rig.set(Process.EXECUTION, "paper-1", Action.STOP)
    await rig.bar(1)
    canceled = rig.last("w-1")
    assert (canceled.status, canceled.reason, canceled.leaves_quantity) == (
        Status.ORDER_STATUS_CANCELED,
        HALTED,
        "0",
    )
    assert rig.last("w-2").status == Status.ORDER_STATUS_FILLED  # the other account filled at the open
    assert [f.client_order_id for f in rig.store.fills.values()] == ["w-2"]


async def test_paused_keeps_working_orders_working_and_refuses_only_new_ones() -> None:
    rig = Rig()
    await rig.order(order_request("p-1"), order_request("p-rest", **LIMIT))
    await rig.set(Process.EXECUTION, ALL, Action.PAUSE)
    await rig.deliver_commands()  # a pause cancels nothing
    await rig.order(order_request("p-2"))
    await rig.bar(1)
    assert rig.last("p-1").status == Status.ORDER_STATUS_FILLED  # filled at the open while paused
    assert rig.last("p-rest").status == Status.ORDER_STATUS_NEW  # still resting
    assert rig.last("p-2").reason_text == "execution is paused: by hand"


async def test_a_halt_command_cancels_working_orders_at_once_and_a_stale_one_nothing() -> None:
    rig = Rig()
    await rig.order(order_request("c-1", **LIMIT), order_request("c-2", account="paper-2", **LIMIT))
    await rig.controller.halt(Process.EXECUTION, "paper-2", "venue account frozen")
    await rig.deliver_commands()
    assert rig.last("c-2").status == Status.ORDER_STATUS_CANCELED and rig.last("c-2").reason == HALTED
    assert rig.last("c-1").status == Status.ORDER_STATUS_NEW
    await rig.set(Process.EXECUTION, "paper-2", Action.RESUME)
    await rig.order(order_request("c-3", account="paper-2", **LIMIT))
    await rig.deliver_commands()  # the halt again, replayed after the resume: the board says running
    assert rig.last("c-3").status == Status.ORDER_STATUS_NEW


TWAP = AlgorithmSpec(
    algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP, duration_ns=4 * MINUTE_NS, slices=4
)


async def test_a_halt_stops_a_parent_and_ends_it_like_the_kill_switch() -> None:
    rig = Rig()
    await rig.order(order_request("twap-1", quantity="1", algorithm=TWAP))
    await rig.bar(0)
    await rig.bar(1)  # child 0 filled at bar 1's open; child 1 sent
    await rig.set(Process.EXECUTION, "paper-1", Action.HALT, "stale data")
    await rig.bar(2)  # the paper venue cancels child 1; no child 2; the parent ends
    assert sorted(rig.store.orders) == ["twap-1.0", "twap-1.1"]
    parent = rig.last("twap-1")
    assert (parent.status, parent.reason, parent.cumulative_quantity) == (
        Status.ORDER_STATUS_CANCELED,
        HALTED,
        "0.25",
    )


async def test_a_paused_parent_sends_no_child_and_goes_on_after_resume() -> None:
    rig = Rig()
    await rig.order(order_request("twap-1", quantity="1", algorithm=TWAP))
    await rig.bar(0)
    await rig.set(Process.EXECUTION, ALL, Action.PAUSE)
    await rig.bar(1)
    await rig.bar(2)
    assert sorted(rig.store.orders) == ["twap-1.0"]  # child 0 filled; slices 1 and 2 held back
    assert rig.last("twap-1").status == Status.ORDER_STATUS_PARTIALLY_FILLED  # still open
    await rig.set(Process.EXECUTION, ALL, Action.RESUME)
    await rig.runner.work()
    assert sorted(rig.store.orders) == ["twap-1.0", "twap-1.1", "twap-1.2"]  # what came due meanwhile


async def test_a_child_canceled_by_a_halt_ends_its_parent_even_after_a_quick_resume() -> None:
    rig = Rig()
    await rig.order(order_request("twap-1", quantity="1", algorithm=TWAP))
    await rig.bar(0)  # child 0 sent, working
    await rig.set(Process.EXECUTION, ALL, Action.HALT, "stale data")
    await rig.deliver_commands()  # child 0 canceled at once
    await rig.set(Process.EXECUTION, ALL, Action.RESUME, "fixed")
    await rig.bar(1)
    assert sorted(rig.store.orders) == ["twap-1.0"]  # no child 1: the parent was stopped
    assert (rig.last("twap-1").status, rig.last("twap-1").reason) == (Status.ORDER_STATUS_CANCELED, HALTED)


async def test_a_paused_iceberg_waits_instead_of_ending() -> None:
    rig = Rig()
    iceberg = AlgorithmSpec(algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_ICEBERG, display_quantity="0.4")
    await rig.order(order_request("ice-1", quantity="1", algorithm=iceberg))
    await rig.bar(0)
    await rig.set(Process.EXECUTION, ALL, Action.PAUSE)
    await rig.bar(1)  # child 0 fills; nothing works and nothing may be sent: the parent waits
    assert rig.last("ice-1").status == Status.ORDER_STATUS_PARTIALLY_FILLED
    await rig.set(Process.EXECUTION, ALL, Action.RESUME)
    await rig.runner.work()
    assert sorted(rig.store.orders) == ["ice-1.0", "ice-1.1"]


async def test_an_order_the_venue_never_got_is_canceled_not_sent_while_halted() -> None:
    rig = Rig()
    rig.venue.failures = [VenueUnavailableError("cannot connect")]
    await rig.order(order_request("u-1"))  # refused: stored PENDING, for the resolver
    rig.venue.lost.add("u-1")
    await rig.set(Process.EXECUTION, ALL, Action.STOP)
    assert await resolve_unanswered(rig.ctx, 0.0) == 1
    assert (rig.last("u-1").status, rig.last("u-1").reason) == (Status.ORDER_STATUS_CANCELED, HALTED)
    assert rig.venue.submitted == ["u-1"]  # never sent again


def test_consecutive_errors_halt_after_the_limit_and_reset_on_an_answer() -> None:
    errors = ConsecutiveErrors(3)
    assert [errors.failed("e1"), errors.failed("e2")] == [None, None]
    errors.succeeded()
    assert [errors.failed("e3"), errors.failed("e4")] == [None, None]
    assert errors.failed("HTTP 503") == "3 consecutive venue errors, last: HTTP 503"
    errors.halted()
    assert errors.failed("e6") is None
    never = ConsecutiveErrors(0)
    assert all(never.failed("down") is None for _ in range(100))


async def test_repeated_venue_errors_halt_execution_once_and_an_answer_resets_the_count() -> None:
    rig = Rig(halt_after=3)
    rig.venue.failures = [VenueUnavailableError("cannot connect"), OutcomeUnknownError("timeout")]
    await rig.order(order_request("v-1"))
    await rig.order(order_request("v-2"))
    await rig.order(order_request("v-3"))  # answered: the count starts again
    assert (await rig.control.board()).record(Process.EXECUTION, ALL).state is State.RUNNING
    rig.venue.failures = [OutcomeUnknownError(f"HTTP 503 #{i}") for i in range(6)]
    await rig.order(*(order_request(f"x-{i}") for i in range(6)))  # six failures in one batch
    record = (await rig.control.board()).record(Process.EXECUTION, ALL)
    assert (record.state, record.automated, record.actor) == (State.HALTED, True, "execution.controller")
    assert record.reason.startswith("3 consecutive venue errors, last: OutcomeUnknownError: HTTP 503")
    assert len(await rig.control.history()) == 1 and len(rig.published()) == 1  # halted once
    await rig.order(order_request("after-1"))
    assert rig.last("after-1").reason == HALTED


async def test_an_unexplained_break_halts_reconciliation_once_and_its_command_cancels_orders() -> None:
    rig = Rig()
    await rig.order(order_request("o-1", **LIMIT), order_request("o-2", account="paper-2", **LIMIT))
    known = [VenueOrder("o-1", "BTCUSDT", Decimal(0)), VenueOrder("o-2", "BTCUSDT", Decimal(0))]
    rig.venue.book = VenueSnapshot([*known, VenueOrder("by-hand", "BTCUSDT", Decimal(0))], {})
    assert len(await rig.reconciler.run_once() or []) == 1
    record = (await rig.control.board()).record(Process.RECONCILIATION, ALL)
    assert (
        record.state is State.HALTED
        and record.reason
        == "reconciliation break: open venue order by-hand on BTCUSDT was not placed by Kestrel"
    )
    await rig.deliver_commands()
    assert {rig.last(c).reason for c in ("o-1", "o-2")} == {HALTED}
    rig.venue.book = VenueSnapshot([VenueOrder("by-hand", "BTCUSDT", Decimal(0))], {})
    assert await rig.reconciler.run_scheduled()  # a halted reconciler still compares ...
    assert len(await rig.control.history()) == 1  # ... and does not halt again


@pytest.mark.parametrize("action", [Action.PAUSE, Action.STOP])
async def test_a_paused_or_stopped_reconciliation_skips_its_rounds(action: Action) -> None:
    rig = Rig()
    rig.venue.book = VenueSnapshot([VenueOrder("by-hand", "BTCUSDT", Decimal(0))], {})
    await rig.set(Process.RECONCILIATION, ALL, action)
    assert await rig.reconciler.run_scheduled() is None
    audits = [AuditEvent.FromString(r.data).action for r in rig.bus.records(channel("audit.logs"))]
    assert rig.reconciler.rounds == 0 and not [a for a in audits if a.startswith("reconcile.")]
    assert (await rig.control.board()).record(Process.RECONCILIATION, ALL).state is not State.HALTED
