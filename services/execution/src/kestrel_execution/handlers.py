"""execution.orders entries -> stored order changes -> execution.reports (operator commands:
`kestrel_execution.commands`).

Order of effects: (1) one PostgreSQL transaction stores the change and the outbox row of its
report, (2) the report is published inside the consumer span (the trace of the order continues to
execution.reports), (3) the handler returns and only then does the messaging layer ack the stream
entry. An accepted order is stored before it is sent to the venue (see `kestrel_execution.venue`);
what the venue answers is applied in a second transaction. A redelivery at any point is harmless:
see `kestrel_execution.service` for the whole argument.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kestrel_contracts.events import now_ns
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution.algorithms import AlgoSpec, parse_spec
from kestrel_execution.controller import Controller, Gate
from kestrel_execution.idempotency import IdempotencyGuard
from kestrel_execution.intake import MALFORMED, Accepted, intake
from kestrel_execution.metrics import EXECUTION_LATENCY_MS, FILLS, ORDERS_PROCESSED
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.parents import take_in_parents
from kestrel_execution.progress import OrderChange, StoredOrder, apply_events, is_open
from kestrel_execution.reports import OrderMeta, fee_asset_of, order_report, rejection_report
from kestrel_execution.repository import AcceptedOrder, Advance, ExecutionStore, NewOrder, RejectedOrder
from kestrel_execution.store import request_event_uuid
from kestrel_execution.venue import (
    OutcomeUnknownError,
    Venue,
    VenueEvent,
    VenueState,
    VenueUnavailableError,
)
from kestrel_messaging import Delivery, PermanentError
from kestrel_platform.logging import get_logger
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.paper import WorkingOrder

_log = get_logger("kestrel.execution.handler")


class KillSwitchReader(Protocol):
    async def engaged(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """What every handler and venue feed shares."""

    store: ExecutionStore
    outbox: ReportOutbox
    venue: Venue
    catalog: InstrumentCatalog
    kill_switch: KillSwitchReader
    default_timeframe: str
    default_fee_asset: str
    controller: Controller  # the production controller's board, and the halts execution makes
    # At most this many venue requests in flight at once (a live venue limits order rates).
    submit_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))
    # Set when a parent order may have work: a new parent, a child that moved.
    parents_due: asyncio.Event = field(default_factory=asyncio.Event)

    def fee_asset(self, symbol: str) -> str:
        return fee_asset_of(symbol, self.default_fee_asset)

    async def gate(self) -> Gate:
        """The kill switch and the controller's board, read together once for a batch of work."""
        engaged, board = await asyncio.gather(self.kill_switch.engaged(), self.controller.board())
        return Gate(engaged, board)

    def rejected(
        self, request: OrderRequest, reason: str, text: str, *, parent_client_order_id: str = ""
    ) -> RejectedOrder:
        timeframe = request.timeframe or self.default_timeframe
        report = rejection_report(
            request, self.venue.name, reason, text, parent_client_order_id=parent_client_order_id
        )
        return RejectedOrder(
            request, self.venue.name, timeframe, reason, text, report, parent_client_order_id
        )

    def new_order(
        self, request: OrderRequest, gate: Gate, *, parent_client_order_id: str = "", at_ns: int | None = None
    ) -> NewOrder:
        """The request as an accepted order to store (and send), or its rejection. The controller
        judges it at the request's market time, or `at_ns` (a child: when its parent planned it)."""
        trading = gate.trading(request.account, request.ts_event if at_ns is None else at_ns)
        outcome = intake(request, self.catalog, kill_switch_engaged=gate.kill_switch, trading=trading)
        if not isinstance(outcome, Accepted):
            return self.rejected(
                request, outcome.reason, outcome.text, parent_client_order_id=parent_client_order_id
            )
        meta = OrderMeta(
            client_order_id=request.client_order_id,
            account=request.account,
            strategy_id=request.strategy_id,
            symbol=request.symbol,
            venue=request.venue,
            timeframe=request.timeframe or self.default_timeframe,
            broker=self.venue.name,
            request_event_id=request_event_uuid(request),
            signal_event_id=request.signal_event_id,
            fee_asset=self.fee_asset(request.symbol),
            parent_client_order_id=parent_client_order_id,
        )
        # The decision instant is the request's market time: no fill on the signal's own bar.
        working = WorkingOrder(outcome.order, request.ts_event)
        report = order_report(meta, working.order, 1, ts_event=request.ts_event)
        instrument = self.catalog.get(request.symbol)
        assert instrument is not None  # intake accepted the symbol
        return AcceptedOrder(meta, working, request, report, self.venue.catch_up(instrument))

    async def take_in(self, orders: Sequence[NewOrder]) -> set[str]:
        """Store new orders (one transaction), publish their reports, send the accepted ones still
        open; the client order ids another delivery had stored first."""
        results = await self.store.store_intake(orders)
        stored = [(o, changes) for o, changes in zip(orders, results, strict=True) if changes is not None]
        reports = [
            r for o, changes in stored for r in (o.report, *(c.report for c in changes)) if r is not None
        ]
        await self.outbox.publish(reports)
        for order, changes in stored:
            status = "NEW" if isinstance(order, AcceptedOrder) else "REJECTED"
            ORDERS_PROCESSED.labels(status).inc()
            count_changes(changes)
            _log.debug("order.intake", client_order_id=order.request.client_order_id, status=status,
                       reason=order.report.reason_text)  # fmt: skip
        self.notice_children([c for _, changes in stored for c in changes])
        await self.submit([_to_send(o, changes) for o, changes in stored if _needs_sending(o, changes)])
        return {o.request.client_order_id for o, r in zip(orders, results, strict=True) if r is None}

    def notice_children(self, changes: Sequence[OrderChange]) -> None:
        """Wake the algorithm runner when a child order moved (its parent may have)."""
        if any(change.meta.parent_client_order_id for change in changes):
            self.parents_due.set()

    async def apply(
        self, client_order_id: str, events: Sequence[VenueEvent], *, report_ts_ns: int | None = None
    ) -> OrderChange | None:
        """Store what the venue said of one order and publish its report (if it has one)."""
        [change] = await self.apply_many([(client_order_id, events)], report_ts_ns=report_ts_ns)
        return change

    async def apply_many(
        self, answers: Sequence[tuple[str, Sequence[VenueEvent]]], *, report_ts_ns: int | None = None
    ) -> list[OrderChange | None]:
        """What the venue said of several orders, in one transaction, then their reports."""
        if not answers:
            return []

        def advance(events: Sequence[VenueEvent]) -> Advance:
            return lambda stored: apply_events(stored, events, report_ts_ns=report_ts_ns)

        changes = await self.store.apply_to_orders(
            [(coid, advance(events)) for coid, events in answers], self.fee_asset
        )
        done = [change for change in changes if change is not None]
        await self.outbox.publish([c.report for c in done if c.report is not None])
        count_changes(done)
        self.notice_children(done)
        return changes

    async def submit(self, orders: Sequence[StoredOrder]) -> None:
        """Send stored orders to the venue (concurrently) and store its answers in one go. An unknown
        outcome is recorded as such (the resolver asks the venue); a refusal leaves the order
        PENDING (the resolver sends it again once the venue allows)."""
        outcomes = await asyncio.gather(*(self._submit_one(stored) for stored in orders))
        await self.apply_many(
            [(s.meta.client_order_id, events) for s, events in zip(orders, outcomes, strict=True) if events]
        )

    async def _submit_one(self, stored: StoredOrder) -> Sequence[VenueEvent]:
        order, meta = stored.working.order, stored.meta
        async with self.submit_slots:
            try:
                events = await self.venue.submit(order, meta)
            except OutcomeUnknownError as exc:
                await self.store.set_venue_state(meta.client_order_id, VenueState.UNKNOWN)
                _log.warning("venue.submit_unknown", client_order_id=meta.client_order_id, error=str(exc))
                await self.controller.venue_failed(exc)
            except VenueUnavailableError as exc:
                _log.warning("venue.submit_refused", client_order_id=meta.client_order_id, error=str(exc),
                             retry_after_s=exc.retry_after_s)  # fmt: skip
                await self.controller.venue_failed(exc)
            else:
                self.controller.venue_answered()  # a rejection is an answer too: the venue works
                return events
        return ()


def count_changes(changes: Sequence[OrderChange]) -> None:
    for change in changes:
        for traded in change.fills:
            FILLS.labels(traded.fill.liquidity.name).inc()
        if change.report is not None:
            ORDERS_PROCESSED.labels(change.working.order.status.name).inc()


class OrdersHandler:
    """execution.orders, a fetch at a time: one Redis round trip for the idempotency keys, one
    transaction for the batch's orders, one publish of their reports, the venue submits side by
    side, one transaction for the venue's answers. A failing batch is retried one entry at a time
    by the messaging layer (a poison entry goes to the DLQ alone)."""

    def __init__(self, context: ExecutionContext, idempotency: IdempotencyGuard) -> None:
        self._ctx, self._idempotency = context, idempotency

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        ctx = self._ctx
        requests = _unique([_request(delivery) for delivery in deliveries])
        first = await self._idempotency.claim_many([r.client_order_id for r in requests])
        maybe_seen = [r.client_order_id for r, new in zip(requests, first, strict=True) if not new]
        seen = await ctx.store.existing(maybe_seen) if maybe_seen else set()
        fresh = [r for r in requests if r.client_order_id not in seen]
        gate = await ctx.gate()  # once per batch: every order of it is judged by the same board
        orders: list[NewOrder] = []
        parents: list[tuple[AcceptedOrder, AlgoSpec]] = []
        for request in fresh:
            order, spec = ctx.new_order(request, gate), None
            try:
                spec = parse_spec(request.algorithm)
            except ValueError as exc:
                order = ctx.rejected(request, MALFORMED, f"algorithm: {exc}")
            if spec is not None and isinstance(order, AcceptedOrder):
                parents.append((order, spec))
            else:
                orders.append(order)
        duplicates = await ctx.take_in(orders) | await take_in_parents(ctx, parents)
        for coid in seen | duplicates:
            await self._duplicate(coid)  # another delivery stored it first (PostgreSQL's UNIQUE decided)
        now = now_ns()
        for request in fresh:
            if request.ts_init:
                EXECUTION_LATENCY_MS.observe(max(now - request.ts_init, 0) / 1e6)

    async def _duplicate(self, client_order_id: str) -> None:
        ORDERS_PROCESSED.labels("DUPLICATE").inc()
        # A crash after the commit may have left this order's reports unpublished: send them now.
        await self._ctx.outbox.flush(client_order_id=client_order_id)
        _log.info("order.duplicate", client_order_id=client_order_id)


def _request(delivery: Delivery) -> OrderRequest:
    request = delivery.message
    if not isinstance(request, OrderRequest):
        raise PermanentError(f"expected an OrderRequest, got {type(request).__name__}")
    if not request.client_order_id:
        raise PermanentError("OrderRequest without client_order_id: nothing to store it under")
    return request


def _unique(requests: Sequence[OrderRequest]) -> list[OrderRequest]:
    """The first request of each client order id (a batch may hold a redelivered entry twice)."""
    by_id: dict[str, OrderRequest] = {}
    for request in requests:
        by_id.setdefault(request.client_order_id, request)
    return list(by_id.values())


def _needs_sending(order: NewOrder, changes: Sequence[OrderChange]) -> bool:
    """An accepted order still open after catching up (stored bars may already have settled it)."""
    if not isinstance(order, AcceptedOrder):
        return False
    latest = changes[-1].working if changes else order.working
    return is_open(latest.order)


def _to_send(order: NewOrder, changes: Sequence[OrderChange]) -> StoredOrder:
    assert isinstance(order, AcceptedOrder)
    if changes:
        last = changes[-1]
        return StoredOrder(
            order.meta.client_order_id, last.meta, last.working, last.sequence, VenueState.PENDING
        )
    return StoredOrder(order.meta.client_order_id, order.meta, order.working, 1, VenueState.PENDING)
