"""A risk verdict as plain values, and the contract messages made from it.

``Judgement`` is what the engine decides (no protobuf inside); ``to_decision``, ``to_order`` and
``to_audit`` turn it into the RiskDecision, the OrderRequest for execution.orders and the
AuditEvent of a rejection. Every id is derived from the client_order_id, so deciding the same
signal (or manual order) again yields the same messages and downstream sees a repeat, not a new fact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from kestrel_contracts.decimals import to_wire, to_wire_optional
from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.v1.audit_event_pb2 import AUDIT_SEVERITY_WARNING, AuditEvent
from kestrel_contracts.v1.order_request_pb2 import (
    ORDER_ORIGIN_MANUAL,
    ORDER_ORIGIN_SIGNAL,
    ORDER_TYPE_MARKET,
    OrderRequest,
)
from kestrel_contracts.v1.risk_decision_pb2 import (
    RISK_OUTCOME_APPROVED,
    RISK_OUTCOME_REJECTED,
    RiskDecision,
)
from kestrel_contracts.v1.risk_decision_pb2 import RiskCheck as RiskCheckProto
from kestrel_trading.domain import Side
from kestrel_trading.risk import RiskCheck

REJECTED_ACTION = "risk.order_rejected"
SERVICE = "risk"


def signal_client_order_id(account: str, signal_event_id: str) -> str:
    """The idempotency key of the order a signal asks for: the same signal and account, the same id.

    Short (28 characters) and of the characters venues accept in client order ids.
    """
    digest = hashlib.sha256(f"{account}\x1f{signal_event_id}".encode()).hexdigest()
    return f"sig-{digest[:24]}"


def decision_event_id(client_order_id: str) -> str:
    return derived_event_id("risk.decision", client_order_id)


def order_event_id(client_order_id: str) -> str:
    return derived_event_id("risk.order", client_order_id)


@dataclass(frozen=True, slots=True)
class Judgement:
    """Risk's verdict on one signal or manual order. ``reason`` is None exactly when approved."""

    client_order_id: str
    ts_event: int
    origin: str  # an OrderOrigin proto enum name
    account: str
    strategy_id: str
    symbol: str
    venue: str
    timeframe: str
    side: Side | None
    quantity: Decimal | None
    reference_price: Decimal | None
    reason: str | None  # a RiskReason proto enum name
    reason_text: str
    checks: tuple[RiskCheck, ...]
    signal_event_id: str = ""
    causation_event_id: str = ""
    actor: str = ""

    @property
    def approved(self) -> bool:
        return self.reason is None

    @property
    def notional(self) -> Decimal | None:
        if self.quantity is None or self.reference_price is None:
            return None
        return self.quantity * self.reference_price

    @property
    def decision_event_id(self) -> str:
        return decision_event_id(self.client_order_id)


def origin_name(origin: str) -> str:
    """SIGNAL / MANUAL: the text form trading.risk_decisions and the audit trail use."""
    return origin.removeprefix("ORDER_ORIGIN_")


def _side(side: Side | None) -> str:
    return side.value if side is not None else "SIDE_UNSPECIFIED"


def to_decision(j: Judgement, *, clock: int | None = None) -> RiskDecision:
    return RiskDecision(
        event_id=j.decision_event_id,
        ts_event=j.ts_event,
        ts_init=clock or now_ns(),
        outcome=RISK_OUTCOME_APPROVED if j.approved else RISK_OUTCOME_REJECTED,
        reason=j.reason or "RISK_REASON_UNSPECIFIED",
        reason_text=j.reason_text,
        account=j.account,
        strategy_id=j.strategy_id,
        symbol=j.symbol,
        venue=j.venue,
        side=_side(j.side),
        quantity=to_wire_optional(j.quantity),
        reference_price=to_wire_optional(j.reference_price),
        notional=to_wire_optional(j.notional),
        origin=j.origin,
        client_order_id=j.client_order_id,
        signal_event_id=j.signal_event_id,
        order_event_id=order_event_id(j.client_order_id) if j.approved else "",
        checks=[
            RiskCheckProto(name=c.name, passed=c.passed, limit=c.limit, observed=c.observed, detail=c.detail)
            for c in j.checks
        ],
    )


def to_order(j: Judgement, *, clock: int | None = None) -> OrderRequest:
    """The MARKET order a signal judgement approved (manual orders keep the gateway's request)."""
    if not j.approved or j.side is None or j.quantity is None or j.reference_price is None:
        raise ValueError(f"judgement {j.client_order_id} approved no order")
    return OrderRequest(
        event_id=order_event_id(j.client_order_id),
        ts_event=j.ts_event,
        ts_init=clock or now_ns(),
        client_order_id=j.client_order_id,
        account=j.account,
        strategy_id=j.strategy_id,
        symbol=j.symbol,
        venue=j.venue,
        timeframe=j.timeframe,
        side=_side(j.side),
        order_type=ORDER_TYPE_MARKET,
        quantity=to_wire(j.quantity),
        reference_price=to_wire(j.reference_price),
        origin=ORDER_ORIGIN_SIGNAL,
        signal_event_id=j.signal_event_id,
        risk_decision_event_id=j.decision_event_id,
    )


def audit_attributes(j: Judgement) -> dict[str, str]:
    """The numbers behind a rejection, as text: every failed check's limit and observed value."""
    attributes = {
        "reason": j.reason or "",
        "client_order_id": j.client_order_id,
        "side": j.side.name if j.side is not None else "",
        "quantity": to_wire_optional(j.quantity),
        "reference_price": to_wire_optional(j.reference_price),
        "notional": to_wire_optional(j.notional),
        "origin": origin_name(j.origin),
    }
    for check in j.checks:
        if not check.passed:
            attributes[f"{check.name}.limit"] = check.limit
            attributes[f"{check.name}.observed"] = check.observed
    return attributes


def to_audit(j: Judgement, *, clock: int | None = None) -> AuditEvent:
    if j.approved:
        raise ValueError(f"judgement {j.client_order_id} is an approval: nothing to audit")
    return AuditEvent(
        event_id=derived_event_id(REJECTED_ACTION, j.client_order_id),
        ts_event=j.ts_event,
        ts_init=clock or now_ns(),
        service=SERVICE,
        action=REJECTED_ACTION,
        severity=AUDIT_SEVERITY_WARNING,
        actor=j.actor,
        subject_type="order",
        subject_id=j.client_order_id,
        symbol=j.symbol,
        account=j.account,
        message=f"{j.symbol or 'order'} {j.client_order_id} rejected: {j.reason_text}",
        attributes=audit_attributes(j),
        causation_event_id=j.causation_event_id,
    )


def to_manual_order(j: Judgement, request: OrderRequest, *, clock: int | None = None) -> OrderRequest:
    """The gateway's manual order as execution gets it: its own fields, plus what risk decided."""
    if not j.approved or j.reference_price is None:
        raise ValueError(f"judgement {j.client_order_id} approved no order")
    order = OrderRequest()
    order.CopyFrom(request)
    order.event_id = order_event_id(j.client_order_id)  # the id the decision names
    order.ts_event = j.ts_event
    order.ts_init = clock or now_ns()
    order.account = j.account
    order.origin = ORDER_ORIGIN_MANUAL
    order.requested_by = request.requested_by or j.actor
    order.reference_price = to_wire(j.reference_price)
    order.risk_decision_event_id = j.decision_event_id
    return order
