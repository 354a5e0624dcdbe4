"""execution.orders entries and market.bars records -> stored order changes -> execution.reports.

Order of effects, both handlers: (1) one PostgreSQL transaction stores the change and the outbox
row of its report, (2) the report is published inside the consumer span (the trace of the order or
bar continues to execution.reports), (3) the handler returns and only then does the messaging layer
ack the stream entry / commit the bar offset. A redelivery at any point is harmless: see
`kestrel_execution.service` for the whole argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kestrel_contracts.decimals import from_wire
from kestrel_contracts.events import now_ns
from kestrel_contracts.v1.bar_pb2 import Bar as BarPb
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution.broker import Broker
from kestrel_execution.idempotency import IdempotencyGuard
from kestrel_execution.intake import Accepted, intake
from kestrel_execution.metrics import EXECUTION_LATENCY_MS, FILLS, ORDERS_PROCESSED
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.progress import OrderChange, StoredOrder, advance, cancel_for_kill_switch
from kestrel_execution.reports import OrderMeta, fee_asset_of, order_report, rejection_report
from kestrel_execution.repository import ExecutionStore
from kestrel_execution.store import request_event_uuid
from kestrel_messaging import Delivery, PermanentError
from kestrel_platform.logging import get_logger
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Bar

_log = get_logger("kestrel.execution.handler")


class KillSwitchReader(Protocol):
    async def engaged(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """What both handlers share."""

    store: ExecutionStore
    outbox: ReportOutbox
    broker: Broker
    catalog: InstrumentCatalog
    kill_switch: KillSwitchReader
    default_timeframe: str
    default_fee_asset: str


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
                broker=ctx.broker.name,
                request_event_id=request_event_uuid(request),
                signal_event_id=request.signal_event_id,
                fee_asset=fee_asset_of(request.symbol, ctx.default_fee_asset),
            )
            # The decision instant is the request's market time: no fill on the signal's own bar.
            working = ctx.broker.accept(outcome.order, request.ts_event)
            report = order_report(meta, working.order, 1, ts_event=request.ts_event)
            instrument = ctx.catalog.get(request.symbol)
            assert instrument is not None  # intake accepted the symbol

            def catch_up(stored: StoredOrder, bar: Bar) -> OrderChange | None:
                return advance(stored, bar, instrument, ctx.broker, kill_switch_engaged=engaged)

            changes = await ctx.store.store_accepted(meta, working, request, report, catch_up)
            stored = changes is not None
            caught_up = changes or []
        else:
            report = rejection_report(request, ctx.broker.name, outcome.reason, outcome.text)
            stored = await ctx.store.store_rejected(
                request, broker=ctx.broker.name, timeframe=timeframe, reason=outcome.reason,
                text=outcome.text, report=report,
            )  # fmt: skip
        if not stored:  # another delivery stored it first (PostgreSQL's UNIQUE decided)
            await self._duplicate(coid)
            return
        await ctx.outbox.publish([report, *(c.report for c in caught_up if c.report is not None)])
        status = "NEW" if isinstance(outcome, Accepted) else "REJECTED"
        ORDERS_PROCESSED.labels(status).inc()
        _count(caught_up)
        if request.ts_init:
            EXECUTION_LATENCY_MS.observe(max(now_ns() - request.ts_init, 0) / 1e6)
        _log.info("order.intake", client_order_id=coid, symbol=request.symbol, status=status,
                  reason=report.reason_text)  # fmt: skip

    async def _duplicate(self, client_order_id: str) -> None:
        ORDERS_PROCESSED.labels("DUPLICATE").inc()
        # A crash after the commit may have left this order's reports unpublished: send them now.
        await self._ctx.outbox.flush(client_order_id=client_order_id)
        _log.info("order.duplicate", client_order_id=client_order_id)


def to_domain_bar(message: BarPb) -> Bar:
    """The contract's bar as the fill model's; PermanentError for a bar that makes no sense."""
    try:
        return Bar(
            ts_open_ns=message.ts_open,
            ts_close_ns=message.ts_event,
            open=from_wire(message.open),
            high=from_wire(message.high),
            low=from_wire(message.low),
            close=from_wire(message.close),
            volume=from_wire(message.volume),
        )
    except ValueError as exc:
        raise PermanentError(f"bar {message.symbol} {message.timeframe} @ {message.ts_open}: {exc}") from exc


def _count(changes: list[OrderChange]) -> None:
    for change in changes:
        if change.fill is not None:
            FILLS.labels(change.fill.liquidity.name).inc()
        if change.report is not None:
            ORDERS_PROCESSED.labels(change.working.order.status.name).inc()


class BarsHandler:
    def __init__(self, context: ExecutionContext) -> None:
        self._ctx = context

    async def __call__(self, delivery: Delivery) -> None:
        message = delivery.message
        if not isinstance(message, BarPb):
            raise PermanentError(f"expected a Bar, got {type(message).__name__}")
        ctx = self._ctx
        instrument = ctx.catalog.get(message.symbol)
        if instrument is None:  # intake rejects unknown symbols, so no order can be waiting on it
            return
        bar = to_domain_bar(message)
        engaged = await ctx.kill_switch.engaged()
        changes = await ctx.store.apply_bar(
            message.symbol,
            message.timeframe,
            fee_asset_of(message.symbol, ctx.default_fee_asset),
            (bar.ts_open_ns, bar.ts_close_ns),
            lambda stored: advance(stored, bar, instrument, ctx.broker, kill_switch_engaged=engaged),
        )
        reports = [change.report for change in changes if change.report is not None]
        await ctx.outbox.publish(reports)
        _count(changes)
        if reports:
            _log.info("bar.applied", symbol=message.symbol, ts_open=message.ts_open, reports=len(reports))


class CommandsHandler:
    """ops.commands: an engaged kill switch cancels every working order at once.

    The command is only the prompt: the switch's state in Redis is the truth (the gateway sets it
    before publishing), so a stale "engage" replayed after a release cancels nothing. Missing a
    command is harmless too: the bar handler checks the same state before filling anything.
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
        changes = await ctx.store.apply_to_all_working(
            lambda symbol: fee_asset_of(symbol, ctx.default_fee_asset),
            lambda stored: cancel_for_kill_switch(stored, ctx.broker, ts_event=command.ts_event or now_ns()),
        )
        await ctx.outbox.publish([change.report for change in changes if change.report is not None])
        ORDERS_PROCESSED.labels("CANCELED").inc(len(changes))
        _log.warning("kill_switch.canceled_working_orders", count=len(changes), actor=command.actor)
