"""The paper venue: fills against the bars after the order with `kestrel_trading.paper`'s fill model.

It answers a submit with an ack at once and makes every later event (trade, cancel, expiry) from the
market bars it consumes, through the same state machine as a live venue. It keeps no state of its
own: every order's working state lives in PostgreSQL (locked per bar), so a restart or a second
replica continues exactly where the last left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any

from kestrel_contracts.decimals import from_wire
from kestrel_contracts.events import now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.bar_pb2 import Bar as BarPb
from kestrel_execution.handlers import ExecutionContext, count_changes
from kestrel_execution.progress import OrderChange, StoredOrder, apply_events
from kestrel_execution.reconcile import VenueSnapshot
from kestrel_execution.reports import OrderMeta, fee_asset_of
from kestrel_execution.repository import CatchUp, ExecutionStore
from kestrel_execution.venue import Acked, Canceled, Expired, Traded, VenueEvent, VenueRuntime
from kestrel_messaging import Delivery, PermanentError
from kestrel_platform.logging import get_logger
from kestrel_trading.domain import Bar
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order, OrderStatus
from kestrel_trading.paper import PaperConfig, PaperStep
from kestrel_trading.paper import on_bar as paper_on_bar

_log = get_logger("kestrel.execution.paper")


def _events(stored: StoredOrder, step: PaperStep, bar: Bar) -> list[VenueEvent]:
    """What one bar did to the order, as the events a venue would have sent."""
    events: list[VenueEvent] = []
    if step.fill is not None:
        events.append(Traded(step.fill, step.fill.fee, stored.meta.fee_asset))
    after, before = step.working.order, stored.working.order
    if after.status is not before.status and after.status is OrderStatus.CANCELED:
        events.append(Canceled(bar.ts_close_ns, after.reason))
    elif after.status is not before.status and after.status is OrderStatus.EXPIRED:
        events.append(Expired(bar.ts_close_ns, after.reason))
    return events


class PaperVenue:
    def __init__(self, config: PaperConfig, bars_consumer_group: str = "execution-paper") -> None:
        self._config = config
        self._bars_group = bars_consumer_group

    @property
    def name(self) -> str:
        return "paper"

    async def submit(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent]:
        return [Acked(now_ns(), meta.client_order_id)]

    async def cancel(self, order: Order, meta: OrderMeta, reason: str) -> Sequence[VenueEvent]:
        return [Canceled(now_ns(), reason)]

    async def resolve(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent] | None:
        # The paper venue's book is Kestrel's store: a stored order is one it has.
        return [Acked(now_ns(), meta.client_order_id)]

    async def snapshot(self, symbols: Sequence[str], *, orders: bool = True) -> VenueSnapshot | None:
        return None  # its book is Kestrel's store: nothing to reconcile

    def on_bar(
        self, stored: StoredOrder, bar: Bar, instrument: Instrument, *, cancel_reason: str | None = None
    ) -> OrderChange | None:
        """The change `bar` makes to the order, or None when it changes nothing (a redelivered bar).
        `cancel_reason`: the kill switch is engaged, or execution stopped or halted for the account."""
        if cancel_reason is not None and bar.ts_open_ns >= stored.working.submitted_at_ns:
            return apply_events(stored, [Canceled(bar.ts_close_ns, cancel_reason)])
        step = paper_on_bar(stored.working, bar, instrument, self._config)
        events = _events(stored, step, bar)
        return apply_events(stored, events, working=step.working, report_ts_ns=bar.ts_close_ns)

    def catch_up(self, instrument: Instrument) -> CatchUp:
        # Intake accepts no order unless trading runs (kill switch, controller): catching up never cancels.
        return lambda stored, bar: self.on_bar(stored, bar, instrument)

    async def market_time_ns(self, symbol: str, timeframe: str, store: ExecutionStore) -> int | None:
        return await store.market_time_ns(symbol, timeframe)  # the bars' time: a replay runs ahead

    def tasks(self, runtime: VenueRuntime, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
        bars = runtime.kafka.subscribe(
            channel("market.bars"), group=self._bars_group, consumer=runtime.consumer,
            options=runtime.options,
        )  # fmt: skip
        return [bars.run(BarsHandler(runtime.context, self), stop)]


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


class BarsHandler:
    """market.bars -> the paper venue's events for every working order of the bar's market."""

    def __init__(self, context: ExecutionContext, venue: PaperVenue) -> None:
        self._ctx, self._venue = context, venue

    async def __call__(self, delivery: Delivery) -> None:
        message = delivery.message
        if not isinstance(message, BarPb):
            raise PermanentError(f"expected a Bar, got {type(message).__name__}")
        ctx = self._ctx
        instrument = ctx.catalog.get(message.symbol)
        if instrument is None:  # intake rejects unknown symbols, so no order can be waiting on it
            return
        bar = to_domain_bar(message)
        gate = await ctx.gate()  # per bar: each working order is judged by its account's state

        def advance(stored: StoredOrder) -> OrderChange | None:
            reason = gate.cancel_reason(stored.meta.account, bar.ts_close_ns)
            return self._venue.on_bar(stored, bar, instrument, cancel_reason=reason)

        changes = await ctx.store.apply_bar(
            message.symbol,
            message.timeframe,
            fee_asset_of(message.symbol, ctx.default_fee_asset),
            (bar.ts_open_ns, bar.ts_close_ns),
            advance,
            broker=self._venue.name,
        )
        reports = [change.report for change in changes if change.report is not None]
        await ctx.outbox.publish(reports)
        count_changes(changes)
        ctx.notice_children(changes)
        if reports:
            _log.info("bar.applied", symbol=message.symbol, ts_open=message.ts_open, reports=len(reports))
