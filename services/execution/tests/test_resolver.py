"""The resolver on in-memory stand-ins: an unanswered order is asked about, never blindly re-sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_execution.handlers import ExecutionContext, OrdersHandler
from kestrel_execution.idempotency import MemoryIdempotency
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.paper_venue import PaperVenue
from kestrel_execution.reports import OrderMeta
from kestrel_execution.resolver import resolve_unanswered
from kestrel_execution.testing import FakeKillSwitch, InMemoryExecutionStore, memory_controller, order_request
from kestrel_execution.venue import (
    Acked,
    OutcomeUnknownError,
    Traded,
    VenueEvent,
    VenueState,
    VenueUnavailableError,
)
from kestrel_messaging import Delivery, InMemoryBus
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Fill, Side
from kestrel_trading.orders import Order
from kestrel_trading.paper import PaperConfig

FEE = Decimal("0.05")


@dataclass
class ScriptedVenue(PaperVenue):
    """A live-like venue: submits fail as scripted; `known` is what the venue would answer a query."""

    submit_errors: list[Exception] = field(default_factory=list)
    known: dict[str, Sequence[VenueEvent]] = field(default_factory=dict)
    submitted: list[str] = field(default_factory=list)
    queried: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(PaperConfig())

    @property
    def name(self) -> str:
        return "scripted"

    async def submit(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent]:
        self.submitted.append(order.client_order_id)
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        return [Acked(1, f"v-{order.client_order_id}")]

    async def resolve(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent] | None:
        self.queried.append(order.client_order_id)
        return self.known.get(order.client_order_id)

    def catch_up(self, instrument: object) -> None:  # type: ignore[override]
        return None


def rig(venue: ScriptedVenue) -> tuple[InMemoryExecutionStore, InMemoryBus, ExecutionContext, OrdersHandler]:
    store, bus = InMemoryExecutionStore(), InMemoryBus()
    outbox = ReportOutbox(store, bus, channel("execution.reports"))
    controller = memory_controller(bus)
    ctx = ExecutionContext(
        store, outbox, venue, InstrumentCatalog.builtin(), FakeKillSwitch(), "1m", "USD", controller
    )
    return store, bus, ctx, OrdersHandler(ctx, MemoryIdempotency())


def delivery(coid: str) -> Delivery:
    message = order_request(coid)
    return Delivery(channel("execution.orders"), message, None, {}, message.SerializeToString(), "0")


def reports(bus: InMemoryBus) -> list[tuple[str, int, int]]:
    decoded = [ExecutionReport.FromString(r.data) for r in bus.records(channel("execution.reports"))]
    return [(r.client_order_id, r.sequence, r.status) for r in decoded]


async def test_an_unknown_outcome_is_settled_from_the_venues_answer_not_sent_again() -> None:
    venue = ScriptedVenue(submit_errors=[OutcomeUnknownError("timed out")])
    store, bus, ctx, handler = rig(venue)
    await handler([delivery("u-1")])
    assert state(store, "u-1") is VenueState.UNKNOWN
    fill = Fill("binance:BTC/USDT:1", "u-1", "BTC/USDT", Side.BUY, Decimal(100), Decimal("0.5"), FEE, 5)
    venue.known["u-1"] = [Acked(2, "v-1"), Traded(fill, FEE, "USDT", "1")]
    assert await resolve_unanswered(ctx, pending_for_s=0) == 1
    assert venue.submitted == ["u-1"] and venue.queried == ["u-1"]  # asked, never re-sent
    assert reports(bus) == [("u-1", 1, Status.ORDER_STATUS_NEW), ("u-1", 2, Status.ORDER_STATUS_FILLED)]
    assert state(store, "u-1") is VenueState.ACKED
    assert await resolve_unanswered(ctx, pending_for_s=0) == 0  # nothing left to ask about


async def test_an_order_the_venue_never_got_is_sent_again_under_the_same_id() -> None:
    venue = ScriptedVenue(submit_errors=[VenueUnavailableError("429", retry_after_s=1.0)])
    store, _, ctx, handler = rig(venue)
    await handler([delivery("p-1")])
    assert state(store, "p-1") is VenueState.PENDING  # refused: not taken
    assert await resolve_unanswered(ctx, pending_for_s=0) == 1
    assert venue.submitted == ["p-1", "p-1"] and store.orders["p-1"].meta.venue_order_id == "v-p-1"
    assert state(store, "p-1") is VenueState.ACKED


async def test_a_venue_that_refuses_queries_ends_the_round() -> None:
    venue = ScriptedVenue(submit_errors=[OutcomeUnknownError("x"), OutcomeUnknownError("y")])
    _, _, ctx, handler = rig(venue)
    await handler([delivery("a-1"), delivery("a-2")])

    async def down(order: Order, meta: OrderMeta) -> Sequence[VenueEvent] | None:
        venue.queried.append(order.client_order_id)
        raise VenueUnavailableError("banned", retry_after_s=60)

    venue.resolve = down  # type: ignore[method-assign]
    assert await resolve_unanswered(ctx, pending_for_s=0) == 0
    assert venue.queried == ["a-1"]  # the rest waits for the venue to allow requests


def state(store: InMemoryExecutionStore, client_order_id: str) -> VenueState:
    return store.orders[client_order_id].venue_state
