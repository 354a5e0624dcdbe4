"""How venue events move one stored order: the change to store and the report to send (pure).

Every venue's events go through `apply_events`, so the paper broker and a live exchange share one
order state machine (`kestrel_trading.orders`). Applying is idempotent: a trade already applied (by
fill id), a cancel or expiry of an order already final, or an ack already known changes nothing, so
a redelivered execution report or a REST catch-up that repeats the stream is harmless.

Reports are sent only for what a consumer of execution.reports can see: a fill or a new status. A
change that only moves venue bookkeeping (the ack, the paper state) is stored without a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_execution.intake import KILL_SWITCH, TRADING_HALTED
from kestrel_execution.reports import OrderMeta, order_report
from kestrel_execution.venue import (
    Acked,
    Canceled,
    Traded,
    VenueEvent,
    VenueRejected,
    VenueState,
)
from kestrel_platform.logging import get_logger
from kestrel_trading.orders import (
    Order,
    OrderStatus,
    OrderTransitionError,
    apply_fill,
    cancel,
    expire,
    reject,
)
from kestrel_trading.paper import REASON_EXPIRED, REASON_TIME_IN_FORCE, WorkingOrder

_log = get_logger("kestrel.execution.progress")
_REASON_TEXTS = {
    KILL_SWITCH: "canceled: the kill switch is engaged",
    TRADING_HALTED: "canceled: execution is stopped or halted by the production controller",
    REASON_EXPIRED: "expired before filling completely",
    REASON_TIME_IN_FORCE: "time in force: the remainder that did not fill at once was canceled",
}


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order as loaded (and locked) from the store."""

    order_id: Any  # the store's key for the row
    meta: OrderMeta
    working: WorkingOrder
    sequence: int  # of the latest report
    venue_state: VenueState = VenueState.ACKED


@dataclass(frozen=True, slots=True)
class OrderChange:
    stored: StoredOrder
    working: WorkingOrder
    fills: tuple[Traded, ...]
    sequence: int
    report: ExecutionReport | None
    reason_text: str
    venue_state: VenueState
    meta: OrderMeta  # with the venue order id once acknowledged


def _apply(order: Order, event: VenueEvent) -> tuple[Order, str]:
    """One event on the order: the new order and the event's text (for a final state)."""
    if isinstance(event, Traded):
        return apply_fill(order, event.fill), ""
    if isinstance(event, Acked) or (order.status.is_terminal and not isinstance(event, Traded)):
        return order, ""  # a final order stays final: a late cancel or expiry is news to nobody
    if isinstance(event, VenueRejected):
        return reject(order, event.reason), event.text
    if isinstance(event, Canceled):
        return cancel(order, event.reason), event.text
    return expire(order, event.reason), event.text


def apply_events(
    stored: StoredOrder,
    events: Sequence[VenueEvent],
    *,
    working: WorkingOrder | None = None,
    report_ts_ns: int | None = None,
) -> OrderChange | None:
    """The change `events` make to the order, or None when they change nothing.

    `working`: the venue's own bookkeeping after the events (the paper state), else the stored one.
    The report's time is the last new fill's, else `report_ts_ns`, else the last event's.
    """
    base = working if working is not None else stored.working
    order, text, meta = stored.working.order, "", stored.meta
    fills: list[Traded] = []
    venue_state = stored.venue_state if not events else VenueState.ACKED
    for event in events:
        if isinstance(event, Acked) and event.venue_order_id and not meta.venue_order_id:
            meta = replace(meta, venue_order_id=event.venue_order_id)
        try:
            after, event_text = _apply(order, event)
        except OrderTransitionError as exc:  # e.g. a fill past the quantity: a break to reconcile
            _log.error("venue_event.refused", client_order_id=meta.client_order_id, error=str(exc))
            continue
        if isinstance(event, Traded) and after is not order:
            fills.append(event)
        if after.status is not order.status and after.status.is_terminal:
            text = event_text
        order = after
    new_working = replace(base, order=order)
    before = stored.working
    if new_working == before and meta == stored.meta and venue_state is stored.venue_state:
        return None
    if not fills and order.status is before.order.status:
        return OrderChange(stored, new_working, (), stored.sequence, None, "", venue_state, meta)
    reason_text = ""
    if order.status.is_terminal:
        reason_text = text or _REASON_TEXTS.get(order.reason, order.reason)
    sequence = stored.sequence + 1
    last_ts = report_ts_ns if report_ts_ns is not None else events[-1].ts_ns
    ts_event = fills[-1].ts_ns if fills else last_ts
    report = order_report(meta, order, sequence, ts_event=ts_event, fills=fills, reason_text=reason_text)
    return OrderChange(stored, new_working, tuple(fills), sequence, report, reason_text, venue_state, meta)


def is_open(order: Order) -> bool:
    return order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
