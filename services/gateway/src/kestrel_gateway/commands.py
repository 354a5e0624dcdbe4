"""The messages the gateway publishes, built from validated requests. Pure: no I/O.

A manual order's client_order_id is what makes it idempotent downstream (risk and execution key on
it). With an `Idempotency-Key` header it is derived from (API key id, that header), so a client
retrying the same request, even through another gateway replica, produces the same order and the
duplicate is dropped; two keys using the same header value still get different orders. Without the
header every request is a new order. A flatten's event id is derived the same way.
"""

from __future__ import annotations

import uuid

from kestrel_contracts.decimals import to_wire, to_wire_optional
from kestrel_contracts.events import derived_event_id, new_event_id
from kestrel_contracts.v1.audit_event_pb2 import (
    AUDIT_SEVERITY_CRITICAL,
    AUDIT_SEVERITY_INFO,
    AUDIT_SEVERITY_WARNING,
    AuditEvent,
)
from kestrel_contracts.v1.common_pb2 import Side
from kestrel_contracts.v1.operator_command_pb2 import KillSwitch, OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import AlgorithmSpec, OrderOrigin, OrderRequest, OrderType
from kestrel_gateway.models import AlgorithmIn, OrderIn
from kestrel_platform.control import ALL, Process, RunWindow

__all__ = [
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "SERVICE",
    "audit_event",
    "client_order_id",
    "flatten_event_id",
    "kill_switch_command",
    "submit_order_command",
    "valid_idempotency_key",
    "window_audit",
]

SERVICE = "gateway"
# Exchanges cap client order ids at 36 characters: "m-" + 32 hex digits fits.
_CLIENT_ORDER_ID_PREFIX = "m-"
IDEMPOTENCY_KEY_MAX_LENGTH = 128


def valid_idempotency_key(value: str) -> bool:
    return 0 < len(value) <= IDEMPOTENCY_KEY_MAX_LENGTH and value.isprintable() and "\x1f" not in value


def client_order_id(requested_by: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return _CLIENT_ORDER_ID_PREFIX + uuid.uuid4().hex
    derived = derived_event_id("gateway-manual-order", requested_by, idempotency_key)
    return _CLIENT_ORDER_ID_PREFIX + uuid.UUID(derived).hex


def flatten_event_id(requested_by: str, idempotency_key: str | None) -> str:
    """A retried flatten (same API key, same Idempotency-Key) is one command downstream."""
    if idempotency_key is None:
        return new_event_id()
    return derived_event_id("gateway-flatten", requested_by, idempotency_key)


def submit_order_command(
    order: OrderIn, *, account: str, order_id: str, requested_by: str, now_ns: int
) -> OperatorCommand:
    """OperatorCommand{submit_order}; event ids derive from the client_order_id, so a retried
    request (same Idempotency-Key) publishes a message downstream recognises as a repeat."""
    request = OrderRequest(
        event_id=derived_event_id("gateway-order-request", order_id),
        ts_event=now_ns,
        ts_init=now_ns,
        client_order_id=order_id,
        account=account,
        strategy_id=order.strategy_id,
        symbol=order.symbol,
        venue=order.venue,
        timeframe=order.timeframe,
        side=f"SIDE_{order.side.value}",
        order_type=f"ORDER_TYPE_{order.order_type.value}",
        time_in_force=f"TIME_IN_FORCE_{order.time_in_force.value}",
        quantity=to_wire(order.quantity),
        limit_price=to_wire_optional(order.limit_price),
        reference_price=to_wire_optional(order.reference_price),
        origin=OrderOrigin.ORDER_ORIGIN_MANUAL,
        requested_by=requested_by,
    )
    if order.algorithm is not None:
        request.algorithm.CopyFrom(algorithm_spec(order.algorithm))
    return OperatorCommand(
        event_id=derived_event_id("gateway-operator-command", order_id),
        ts_event=now_ns,
        ts_init=now_ns,
        actor=requested_by,
        reason="manual order",
        submit_order=request,
    )


def algorithm_spec(algorithm: AlgorithmIn) -> AlgorithmSpec:
    return AlgorithmSpec(
        algorithm=f"EXECUTION_ALGORITHM_{algorithm.name.value}",
        duration_ns=round((algorithm.duration_s or 0) * 1e9),
        slices=algorithm.slices or 0,
        display_quantity=to_wire_optional(algorithm.display_quantity),
    )


def kill_switch_command(engaged: bool, reason: str, actor: str, now_ns: int) -> OperatorCommand:
    return OperatorCommand(
        event_id=new_event_id(),
        ts_event=now_ns,
        ts_init=now_ns,
        actor=actor,
        reason=reason,
        kill_switch=KillSwitch(engaged=engaged),
    )


def audit_event(command: OperatorCommand, now_ns: int) -> AuditEvent:
    """The audit record of a command the gateway published (caused by that command)."""
    if command.WhichOneof("command") == "kill_switch":
        engaged = command.kill_switch.engaged
        return AuditEvent(
            event_id=derived_event_id("gateway-audit", command.event_id),
            ts_event=command.ts_event,
            ts_init=now_ns,
            service=SERVICE,
            action="kill_switch.engaged" if engaged else "kill_switch.released",
            severity=AUDIT_SEVERITY_CRITICAL if engaged else AUDIT_SEVERITY_INFO,
            actor=command.actor,
            subject_type="kill_switch",
            subject_id="global",
            message=command.reason,
            attributes={"engaged": str(engaged).lower()},
            causation_event_id=command.event_id,
        )
    order = command.submit_order
    return AuditEvent(
        event_id=derived_event_id("gateway-audit", command.event_id),
        ts_event=command.ts_event,
        ts_init=now_ns,
        service=SERVICE,
        action="order.submitted",
        severity=AUDIT_SEVERITY_INFO,
        actor=command.actor,
        subject_type="order",
        subject_id=order.client_order_id,
        symbol=order.symbol,
        account=order.account,
        message=f"manual {Side.Name(order.side)} {order.quantity} {order.symbol}",
        attributes={"order_type": OrderType.Name(order.order_type), "quantity": order.quantity},
        causation_event_id=command.event_id,
    )


def window_audit(process: Process, window: RunWindow, *, actor: str, reason: str, now_ns: int) -> AuditEvent:
    """The audit record of a run window set (or cleared). No OperatorCommand carries a window:
    processes read it from the board, where it already is."""
    what = "cleared (runs always)" if window.always else f"set to {window.text!r}"
    return AuditEvent(
        event_id=derived_event_id("gateway-control-window", process.value, window.text, str(now_ns)),
        ts_event=now_ns,
        ts_init=now_ns,
        service=SERVICE,
        action="control.window",
        severity=AUDIT_SEVERITY_INFO if window.always else AUDIT_SEVERITY_WARNING,
        actor=actor,
        subject_type="process",
        subject_id=f"{process.value}/{ALL}",
        message=f"{process.value} run window {what} by {actor}: {reason}",
        attributes={"process": process.value, "window": window.text, "reason": reason},
    )
