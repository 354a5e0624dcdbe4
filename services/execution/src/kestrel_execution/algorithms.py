"""Parent orders and the algorithms that slice them into child venue orders (pure: no I/O).

Three tiers: risk sends a parent (instrument, side, quantity, algorithm); the algorithm decides,
from the parent, its children so far and the market clock, which child orders to send next; each
child is an ordinary venue order (stored, sent, filled and reported like any other). The parent's
own state is derived from its children, never kept apart from them: its filled quantity, notional
and fees are their sums, so a restart that reloads parent and children continues exactly where the
last process stopped, and a child already sent is never sent again (its id is deterministic:
"<parent>.<k>", unique in trading.orders).

TWAP: slice k is due at arrival + k * duration / slices; by then the children should hold the
target k+1/slices of the quantity (rounded down to the lot step; the last slice: all of it). A
child that ended unfilled (rejected, expired) leaves its remainder to the next slice; what is left
after the last slice expires with the parent. ICEBERG: one child of at most display_quantity at the
venue at a time, the next when the last is final; a rejected child ends the parent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from kestrel_contracts.decimals import from_wire, to_wire_optional
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import AlgorithmSpec, ExecutionAlgorithm
from kestrel_execution.intake import KILL_SWITCH, TRADING_HALTED
from kestrel_execution.reports import OrderMeta, order_report
from kestrel_trading.domain import Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order, OrderStatus

MAX_SLICES = 1000
MAX_CHILDREN = 1000  # an iceberg whose children keep ending unfilled stops here
# A child canceled for one of these stopped its parent: no more children, the parent ends CANCELED.
_STOPPED = frozenset({KILL_SWITCH, "EXECUTION_REASON_CANCELED_BY_OPERATOR", TRADING_HALTED})
_BPS = Decimal(10_000)


class Algorithm(StrEnum):
    """Values are the ExecutionAlgorithm proto enum names."""

    TWAP = "EXECUTION_ALGORITHM_TWAP"
    ICEBERG = "EXECUTION_ALGORITHM_ICEBERG"


@dataclass(frozen=True, slots=True)
class AlgoSpec:
    algorithm: Algorithm
    duration_ns: int = 0
    slices: int = 0
    display_quantity: Decimal | None = None


def parse_spec(spec: AlgorithmSpec) -> AlgoSpec | None:
    """The request's algorithm; None for an immediate order; ValueError for one it cannot follow."""
    if spec.algorithm not in ExecutionAlgorithm.values():
        raise ValueError(f"unknown execution algorithm {spec.algorithm}")
    name = ExecutionAlgorithm.Name(spec.algorithm)
    if name in ("EXECUTION_ALGORITHM_UNSPECIFIED", "EXECUTION_ALGORITHM_IMMEDIATE"):
        return None
    algorithm = Algorithm(name)
    if algorithm is Algorithm.TWAP:
        if spec.duration_ns <= 0:
            raise ValueError("TWAP needs duration_ns > 0")
        if not 2 <= spec.slices <= MAX_SLICES:
            raise ValueError(f"TWAP needs 2 <= slices <= {MAX_SLICES}, got {spec.slices}")
        return AlgoSpec(algorithm, duration_ns=spec.duration_ns, slices=spec.slices)
    try:
        display = from_wire(spec.display_quantity)
    except ValueError:
        raise ValueError(f"ICEBERG needs a decimal display_quantity, got {spec.display_quantity!r}") from None
    if display <= 0:
        raise ValueError(f"ICEBERG needs display_quantity > 0, got {display}")
    return AlgoSpec(algorithm, display_quantity=display)


@dataclass(frozen=True, slots=True)
class ParentOrder:
    meta: OrderMeta  # the parent's own: client_order_id is risk's
    order: Order  # the whole quantity; status, filled quantity, notional and fees from the children
    spec: AlgoSpec
    arrival_ns: int  # the decision instant: slices are timed from it
    arrival_price: Decimal | None  # the request's reference price, for slippage
    sequence: int  # of the parent's latest report
    reason_text: str = ""


@dataclass(frozen=True, slots=True)
class Child:
    """What the algorithm needs of a child order, as stored."""

    index: int
    quantity: Decimal
    filled_quantity: Decimal
    filled_notional: Decimal
    fees: Decimal
    status: OrderStatus
    reason: str = ""

    @property
    def committed(self) -> Decimal:
        """What the child holds of the parent: all of it while it works, its fills once final."""
        return self.filled_quantity if self.status.is_terminal else self.quantity


@dataclass(frozen=True, slots=True)
class Slice:
    """A child to send: its index, quantity and decision instant (no fill before it)."""

    index: int
    quantity: Decimal
    ts_event_ns: int


def child_id(parent_client_order_id: str, index: int) -> str:
    return f"{parent_client_order_id}.{index}"


def child_index(parent_client_order_id: str, client_order_id: str) -> int:
    return int(client_order_id.removeprefix(f"{parent_client_order_id}."))


def twap_due_ns(parent: ParentOrder, index: int) -> int:
    return parent.arrival_ns + parent.spec.duration_ns * index // parent.spec.slices


def _twap_target(parent: ParentOrder, index: int, instrument: Instrument) -> Decimal:
    slices, quantity = parent.spec.slices, parent.order.quantity
    target = instrument.round_qty(quantity * (index + 1) / slices)
    # The last slice takes the rest, and so does a slice that would leave less than one lot.
    if index >= slices - 1 or quantity - target < max(instrument.min_qty, instrument.step_size):
        return quantity
    return target


def plan(
    parent: ParentOrder, children: Sequence[Child], now_ns: int, instrument: Instrument, *, halted: bool
) -> list[Slice]:
    """The children to send now (none for a final parent, a halted market or an expired parent)."""
    expired = parent.order.expire_at_ns is not None and now_ns >= parent.order.expire_at_ns
    if parent.order.status.is_terminal or halted or expired or now_ns < parent.arrival_ns:
        return []
    if any(child.status.is_terminal and child.reason in _STOPPED for child in children):
        return []
    committed = sum((child.committed for child in children), Decimal(0))
    last = max((child.index for child in children), default=-1)
    if parent.spec.algorithm is Algorithm.TWAP:
        return _plan_twap(parent, committed, last, now_ns, instrument)
    return _plan_iceberg(parent, children, committed, now_ns, instrument)


def _plan_twap(
    parent: ParentOrder, committed: Decimal, last: int, now_ns: int, instrument: Instrument
) -> list[Slice]:
    spec = parent.spec
    due = min(spec.slices - 1, (now_ns - parent.arrival_ns) * spec.slices // spec.duration_ns)
    out: list[Slice] = []
    for index in range(last + 1, due + 1):
        quantity = instrument.round_qty(_twap_target(parent, index, instrument) - committed)
        if quantity <= 0 or quantity < instrument.min_qty:
            continue  # nothing this slice can send: later slices take it
        out.append(Slice(index, quantity, twap_due_ns(parent, index)))
        committed += quantity
    return out


def _plan_iceberg(
    parent: ParentOrder, children: Sequence[Child], committed: Decimal, now_ns: int, instrument: Instrument
) -> list[Slice]:
    if any(not c.status.is_terminal for c in children) or len(children) >= MAX_CHILDREN:
        return []
    if any(c.status is OrderStatus.REJECTED for c in children):
        return []
    display = parent.spec.display_quantity
    assert display is not None  # parse_spec requires it
    quantity = instrument.round_qty(min(display, parent.order.quantity - committed))
    if quantity <= 0 or quantity < instrument.min_qty:
        return []
    last = max((child.index for child in children), default=-1)
    return [Slice(last + 1, quantity, max(now_ns, parent.arrival_ns))]


def settle(
    parent: ParentOrder, children: Sequence[Child], now_ns: int, *, halted: bool, planned: bool,
    stop_reason: str = KILL_SWITCH,
) -> ParentOrder | None:  # fmt: skip
    """The parent after its children (and the clock): None when nothing a report shows changed.
    `planned`: children were planned this round (the parent is not done while it still sends).
    `halted`: trading stopped (`stop_reason` why): the parent ends once nothing of it works."""
    if parent.order.status.is_terminal:
        return None
    filled = sum((c.filled_quantity for c in children), Decimal(0))
    order = replace(
        parent.order,
        filled_quantity=filled,
        filled_notional=sum((c.filled_notional for c in children), Decimal(0)),
        fees=sum((c.fees for c in children), Decimal(0)),
        status=OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW,
    )
    text = ""
    if filled >= order.quantity:
        order = replace(order, status=OrderStatus.FILLED)
    elif not planned and all(c.status.is_terminal for c in children):
        order, text = _ended(parent, order, children, now_ns, stop_reason if halted else "")
    if order == parent.order:
        return None
    return replace(parent, order=order, sequence=parent.sequence + 1, reason_text=text)


def _ended(
    parent: ParentOrder, order: Order, children: Sequence[Child], now_ns: int, halted: str
) -> tuple[Order, str]:
    """The final state of a parent with nothing working and nothing left to send, if it is final
    (`halted`: the reason trading stopped, or "")."""
    left = order.quantity - order.filled_quantity
    stopped = next((c.reason for c in children if c.reason in _STOPPED), "")
    if halted or stopped:
        reason = stopped or halted
        return replace(order, status=OrderStatus.CANCELED, reason=reason), f"stopped with {left} unfilled"
    if order.expire_at_ns is not None and now_ns >= order.expire_at_ns:
        text = f"expired with {left} unfilled"
        return replace(order, status=OrderStatus.EXPIRED, reason="EXECUTION_REASON_EXPIRED"), text
    if parent.spec.algorithm is Algorithm.TWAP and now_ns >= twap_due_ns(parent, parent.spec.slices - 1):
        text = f"the schedule ended with {left} unfilled"
        return replace(order, status=OrderStatus.EXPIRED, reason="EXECUTION_REASON_EXPIRED"), text
    if parent.spec.algorithm is Algorithm.ICEBERG and now_ns >= parent.arrival_ns:
        # Nothing works and nothing more can be sent: a child was rejected, too many children, or
        # what is left is below the lot minimum.
        rejected = next((c for c in children if c.status is OrderStatus.REJECTED), None)
        reason = rejected.reason if rejected is not None else "EXECUTION_REASON_EXPIRED"
        text = f"child {rejected.index} was rejected" if rejected is not None else "nothing more to send"
        return replace(order, status=OrderStatus.EXPIRED, reason=reason), f"{text}; {left} unfilled"
    return order, ""


def slippage_bps(side: Side, average_price: Decimal | None, arrival_price: Decimal | None) -> Decimal | None:
    """Basis points the fills cost against the arrival price (positive: worse for the trader)."""
    if average_price is None or arrival_price is None or arrival_price <= 0:
        return None
    signed = (average_price - arrival_price) if side is Side.BUY else (arrival_price - average_price)
    return (signed / arrival_price * _BPS).quantize(Decimal("0.01"))


def parent_report(parent: ParentOrder, ts_event_ns: int) -> ExecutionReport:
    """The parent's state: no fills (its children's reports carry them), its arrival and slippage."""
    order = parent.order
    report = order_report(
        parent.meta, order, parent.sequence, ts_event=ts_event_ns, reason_text=parent.reason_text
    )
    report.algorithm = ExecutionAlgorithm.Value(parent.spec.algorithm.value)  # type: ignore[assignment]
    report.arrival_price = to_wire_optional(parent.arrival_price)
    report.slippage_bps = to_wire_optional(
        slippage_bps(order.side, order.average_price, parent.arrival_price)
    )
    return report
