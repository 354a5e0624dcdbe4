"""execution.orders entries and operator commands -> stored order changes -> execution.reports.

Order of effects: (1) one PostgreSQL transaction stores the change and the outbox row of its
report, (2) the report is published inside the consumer span (the trace of the order continues to
execution.reports), (3) the handler returns and only then does the messaging layer ack the stream
entry. An accepted order is stored before it is sent to the venue (see `kestrel_execution.venue`);
what the venue answers is applied in a second transaction. A redelivery at any point is harmless:
see `kestrel_execution.service` for the whole argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kestrel_contracts.events import now_ns
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution.idempotency import IdempotencyGuard
from kestrel_execution.intake import KILL_SWITCH, Accepted, intake
from kestrel_execution.metrics import EXECUTION_LATENCY_MS, FILLS, ORDERS_PROCESSED
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.progress import OrderChange, StoredOrder, apply_events, is_open
from kestrel_execution.reports import OrderMeta, fee_asset_of, order_report, rejection_report
from kestrel_execution.repository import ExecutionStore
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


class CancelIncompleteError(Exception):
    """Some cancels did not reach the venue: retried like any failing handler (then dead-lettered)."""


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

    def fee_asset(self, symbol: str) -> str:
        return fee_asset_of(symbol, self.default_fee_asset)

    async def apply(
        self, client_order_id: str, events: Sequence[VenueEvent], *, report_ts_ns: int | None = None
    ) -> OrderChange | None:
        """Store what the venue said of one order and publish its report (if it has one)."""
        change = await self.store.apply_to_order(
            client_order_id,
            self.fee_asset,
            lambda stored: apply_events(stored, events, report_ts_ns=report_ts_ns),
        )
        if change is not None:
            await self.outbox.publish([change.report] if change.report is not None else [])
            count_changes([change])
        return change

    async def submit(self, stored: StoredOrder) -> None:
        """Send a stored order to the venue and store its answer; an unknown outcome is recorded
        as such (the resolver asks the venue), a refusal leaves it PENDING (resolved later)."""
        order, meta = stored.working.order, stored.meta
        try:
            events = await self.venue.submit(order, meta)
        except OutcomeUnknownError as exc:
            await self.store.set_venue_state(meta.client_order_id, VenueState.UNKNOWN)
            _log.warning("venue.submit_unknown", client_order_id=meta.client_order_id, error=str(exc))
            return
        except VenueUnavailableError as exc:
            _log.warning("venue.submit_refused", client_order_id=meta.client_order_id, error=str(exc),
                         retry_after_s=exc.retry_after_s)  # fmt: skip
            return
        await self.apply(meta.client_order_id, events)


def count_changes(changes: Sequence[OrderChange]) -> None:
    for change in changes:
        for traded in change.fills:
            FILLS.labels(traded.fill.liquidity.name).inc()
        if change.report is not None:
            ORDERS_PROCESSED.labels(change.working.order.status.name).inc()


class OrdersHandler:
    def __init__(self, context: ExecutionContext, idempotency: IdempotencyGuard) -> None:
        self._ctx, self._idempotency = context, idempotency

    async def __call__(self, delivery: Delivery) -> None:
        request = delivery.message
        if not isinstance(request, OrderRequest):
            raise PermanentError(f"expected an OrderRequest, got {type(request).__name__}")
        if not request.client_order_id:
            raise PermanentError("OrderRequest without client_order_id: nothing to store it under")
        ctx = self._ctx
        coid = request.client_order_id
        first_sighting = await self._idempotency.claim(coid)
        if not first_sighting and await ctx.store.order_exists(coid):
            await self._duplicate(coid)
            return
        engaged = await ctx.kill_switch.engaged()
        outcome = intake(request, ctx.catalog, kill_switch_engaged=engaged)
        timeframe = request.timeframe or ctx.default_timeframe
        caught_up: list[OrderChange] = []
        if isinstance(outcome, Accepted):
            meta = OrderMeta(
                client_order_id=coid,
                account=request.account,
                strategy_id=request.strategy_id,
                symbol=request.symbol,
                venue=request.venue,
                timeframe=timeframe,
                broker=ctx.venue.name,
                request_event_id=request_event_uuid(request),
                signal_event_id=request.signal_event_id,
                fee_asset=ctx.fee_asset(request.symbol),
            )
            # The decision instant is the request's market time: no fill on the signal's own bar.
            working = WorkingOrder(outcome.order, request.ts_event)
            report = order_report(meta, working.order, 1, ts_event=request.ts_event)
            instrument = ctx.catalog.get(request.symbol)
            assert instrument is not None  # intake accepted the symbol
            catch_up = ctx.venue.catch_up(instrument)
            changes = await ctx.store.store_accepted(meta, working, request, report, catch_up)
            stored = changes is not None
            caught_up = changes or []
        else:
            report = rejection_report(request, ctx.venue.name, outcome.reason, outcome.text)
            stored = await ctx.store.store_rejected(
                request, broker=ctx.venue.name, timeframe=timeframe, reason=outcome.reason,
                text=outcome.text, report=report,
            )  # fmt: skip
        if not stored:  # another delivery stored it first (PostgreSQL's UNIQUE decided)
            await self._duplicate(coid)
            return
        await ctx.outbox.publish([report, *(c.report for c in caught_up if c.report is not None)])
        status = "NEW" if isinstance(outcome, Accepted) else "REJECTED"
        ORDERS_PROCESSED.labels(status).inc()
        count_changes(caught_up)
        if isinstance(outcome, Accepted):
            latest = caught_up[-1].working if caught_up else working
            if is_open(latest.order):  # an order the stored bars already settled needs no sending
                await ctx.submit(_as_stored(meta, latest, caught_up))
        if request.ts_init:
            EXECUTION_LATENCY_MS.observe(max(now_ns() - request.ts_init, 0) / 1e6)
        _log.info("order.intake", client_order_id=coid, symbol=request.symbol, status=status,
                  reason=report.reason_text)  # fmt: skip

    async def _duplicate(self, client_order_id: str) -> None:
        ORDERS_PROCESSED.labels("DUPLICATE").inc()
        # A crash after the commit may have left this order's reports unpublished: send them now.
        await self._ctx.outbox.flush(client_order_id=client_order_id)
        _log.info("order.duplicate", client_order_id=client_order_id)


def _as_stored(meta: OrderMeta, working: WorkingOrder, changes: Sequence[OrderChange]) -> StoredOrder:
    sequence = changes[-1].sequence if changes else 1
    return StoredOrder(meta.client_order_id, meta, working, sequence, VenueState.PENDING)


class CommandsHandler:
    """ops.commands: an engaged kill switch cancels every working order at once.

    The command is only the prompt: the switch's state in Redis is the truth (the gateway sets it
    before publishing), so a stale "engage" replayed after a release cancels nothing. Missing a
    command is harmless too: the paper venue checks the same state before filling anything, and
    intake refuses new orders while it is engaged.
    """

    def __init__(self, context: ExecutionContext) -> None:
        self._ctx = context

    async def __call__(self, delivery: Delivery) -> None:
        command = delivery.message
        if not isinstance(command, OperatorCommand):
            raise PermanentError(f"expected an OperatorCommand, got {type(command).__name__}")
        if command.WhichOneof("command") != "kill_switch" or not command.kill_switch.engaged:
            return
        ctx = self._ctx
        if not await ctx.kill_switch.engaged():
            _log.info("kill_switch.command_stale", actor=command.actor, event_id=command.event_id)
            return
        ts_event = command.ts_event or now_ns()
        canceled, failed = 0, 0
        for stored in await ctx.store.open_orders(ctx.venue.name, ctx.fee_asset):
            order, meta = stored.working.order, stored.meta
            try:
                events = await ctx.venue.cancel(order, meta, KILL_SWITCH)
            except (OutcomeUnknownError, VenueUnavailableError) as exc:
                failed += 1
                _log.warning(
                    "kill_switch.cancel_failed", client_order_id=meta.client_order_id, error=str(exc)
                )
                continue
            change = await ctx.apply(meta.client_order_id, events, report_ts_ns=ts_event)
            canceled += change is not None and change.report is not None
        _log.warning("kill_switch.canceled_working_orders", count=canceled, actor=command.actor)
        if failed:  # the command is redelivered: what is still working gets another cancel
            raise CancelIncompleteError(f"kill switch: {failed} cancel(s) did not reach the venue")
