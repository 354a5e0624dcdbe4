"""How one market bar moves one working order: the change to store and the report to send (pure).

Reports are sent only for what a consumer of execution.reports can see: a fill or a new status. A
bar that merely advances the paper state (bars seen, last bar applied) is stored without a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_execution.broker import Broker
from kestrel_execution.intake import KILL_SWITCH
from kestrel_execution.reports import OrderMeta, order_report
from kestrel_trading.domain import Bar, Fill
from kestrel_trading.instruments import Instrument
from kestrel_trading.paper import REASON_EXPIRED, REASON_TIME_IN_FORCE, WorkingOrder

_REASON_TEXTS = {
    KILL_SWITCH: "canceled: the kill switch is engaged",
    REASON_EXPIRED: "expired before filling completely",
    REASON_TIME_IN_FORCE: "time in force: the remainder that did not fill at once was canceled",
}


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """A working order as loaded (and locked) from the store."""

    order_id: Any  # the store's key for the row
    meta: OrderMeta
    working: WorkingOrder
    sequence: int  # of the latest report


@dataclass(frozen=True, slots=True)
class OrderChange:
    stored: StoredOrder
    working: WorkingOrder
    fill: Fill | None
    sequence: int
    report: ExecutionReport | None
    reason_text: str


def advance(
    stored: StoredOrder, bar: Bar, instrument: Instrument, broker: Broker, *, kill_switch_engaged: bool
) -> OrderChange | None:
    """The change `bar` makes to the order, or None when it changes nothing (e.g. a redelivered bar)."""
    before = stored.working
    if kill_switch_engaged and bar.ts_open_ns >= before.submitted_at_ns:
        working, fill = broker.cancel(before, KILL_SWITCH), None
    else:
        step = broker.on_bar(before, bar, instrument)
        working, fill = step.working, step.fill
    if working == before:
        return None
    order = working.order
    reason_text = _REASON_TEXTS.get(order.reason, order.reason) if order.status.is_terminal else ""
    if fill is None and order.status == before.order.status:
        return OrderChange(stored, working, None, stored.sequence, None, "")
    sequence = stored.sequence + 1
    report = order_report(
        stored.meta,
        order,
        sequence,
        ts_event=fill.ts_ns if fill is not None else bar.ts_close_ns,
        fills=[fill] if fill is not None else [],
        reason_text=reason_text,
    )
    return OrderChange(stored, working, fill, sequence, report, reason_text)


def cancel_for_kill_switch(stored: StoredOrder, broker: Broker, *, ts_event: int) -> OrderChange:
    """Cancel a working order because the kill switch was engaged (reported at `ts_event`)."""
    working = broker.cancel(stored.working, KILL_SWITCH)
    sequence = stored.sequence + 1
    text = _REASON_TEXTS[KILL_SWITCH]
    report = order_report(stored.meta, working.order, sequence, ts_event=ts_event, reason_text=text)
    return OrderChange(stored, working, None, sequence, report, text)
