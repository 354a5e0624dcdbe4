"""The messages a controller change publishes: an OperatorCommand on ops.commands (processes react
to it at once rather than at their next read of the board) and an AuditEvent an operator can read.

Event ids derive from the change itself, so publishing the same change twice (a retry after a
Kafka error) is recognised downstream as one fact.
"""

from __future__ import annotations

from typing import Protocol

from google.protobuf.message import Message

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.registry import Channel, channel
from kestrel_contracts.v1.audit_event_pb2 import (
    AUDIT_SEVERITY_CRITICAL,
    AUDIT_SEVERITY_INFO,
    AUDIT_SEVERITY_WARNING,
    AuditEvent,
)
from kestrel_contracts.v1.operator_command_pb2 import (
    ControlProcess,
    ControlState,
    Flatten,
    InstrumentOverride,
    OperatorCommand,
    ProcessControl,
)
from kestrel_platform.control import ALL, Change, Mode, Override, Process, State
from kestrel_platform.control_store import ControlStore
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.control")

_SEVERITY = {
    State.RUNNING: AUDIT_SEVERITY_INFO,
    State.PAUSED: AUDIT_SEVERITY_WARNING,
    State.STOPPED: AUDIT_SEVERITY_WARNING,
    State.HALTED: AUDIT_SEVERITY_CRITICAL,
}


def process_proto(process: Process) -> str:
    return f"CONTROL_PROCESS_{process.name}"


def process_of(value: int) -> Process | None:
    name = (
        ControlProcess.Name(value).removeprefix("CONTROL_PROCESS_")
        if value in ControlProcess.values()
        else ""
    )
    return Process[name] if name in Process.__members__ else None


def state_of(value: int) -> State | None:
    name = ControlState.Name(value).removeprefix("CONTROL_STATE_") if value in ControlState.values() else ""
    return State[name] if name in State.__members__ else None


def mode_proto(mode: Mode) -> str:
    return f"INSTRUMENT_MODE_{mode.name}"


def change_command(change: Change) -> OperatorCommand:
    return OperatorCommand(
        event_id=derived_event_id("control", change.process.value, change.scope, change.action.value,
                                  str(change.at_ns)),
        ts_event=change.at_ns,
        ts_init=change.at_ns,
        actor=change.actor,
        reason=change.reason,
        process_control=ProcessControl(
            process=process_proto(change.process),
            scope=change.scope,
            action=f"CONTROL_ACTION_{change.action.name}",
            before=f"CONTROL_STATE_{change.before.name}",
            after=f"CONTROL_STATE_{change.after.name}",
            automated=change.automated,
        ),
    )  # fmt: skip


def change_audit(command: OperatorCommand, change: Change, service: str) -> AuditEvent:
    who = "automation" if change.automated else change.actor
    target = change.process.value if change.scope == ALL else f"{change.process.value} for {change.scope}"
    return AuditEvent(
        event_id=derived_event_id("control-audit", command.event_id),
        ts_event=change.at_ns,
        ts_init=change.at_ns,
        service=service,
        action=f"control.{change.after.value}",
        severity=_SEVERITY[change.after],
        actor=change.actor,
        subject_type="process",
        subject_id=f"{change.process.value}/{change.scope}",
        account="" if change.scope == ALL else change.scope,
        message=f"{target} {change.before.value} -> {change.after.value} by {who}: {change.reason}",
        attributes={
            "process": change.process.value, "scope": change.scope, "action": change.action.value,
            "before": change.before.value, "after": change.after.value,
            "automated": str(change.automated).lower(), "reason": change.reason,
        },
        causation_event_id=command.event_id,
    )  # fmt: skip


def override_command(override: Override) -> OperatorCommand:
    return OperatorCommand(
        event_id=derived_event_id(
            "control-mode", override.account, override.symbol, str(override.changed_at_ns)
        ),
        ts_event=override.changed_at_ns,
        ts_init=override.changed_at_ns,
        actor=override.actor,
        reason=override.reason,
        instrument_override=InstrumentOverride(
            account=override.account, symbol=override.symbol, mode=mode_proto(override.mode)
        ),
    )


def override_audit(command: OperatorCommand, override: Override, service: str) -> AuditEvent:
    return AuditEvent(
        event_id=derived_event_id("control-audit", command.event_id),
        ts_event=override.changed_at_ns,
        ts_init=override.changed_at_ns,
        service=service,
        action=f"control.mode_{override.mode.value}",
        severity=AUDIT_SEVERITY_INFO if override.mode is Mode.NORMAL else AUDIT_SEVERITY_WARNING,
        actor=override.actor,
        subject_type="instrument",
        subject_id=override.symbol,
        symbol=override.symbol,
        account=override.account,
        message=f"{override.symbol} of {override.account} set {override.mode.value} by {override.actor}: "
        f"{override.reason}",
        attributes={"mode": override.mode.value, "reason": override.reason},
        causation_event_id=command.event_id,
    )


def flatten_command(
    event_id: str, account: str, symbol: str, *, actor: str, reason: str, at_ns: int
) -> OperatorCommand:
    return OperatorCommand(
        event_id=event_id, ts_event=at_ns, ts_init=at_ns, actor=actor, reason=reason,
        flatten=Flatten(account=account, symbol=symbol),
    )  # fmt: skip


def flatten_audit(command: OperatorCommand, service: str) -> AuditEvent:
    flatten = command.flatten
    what = flatten.symbol or "every symbol"
    return AuditEvent(
        event_id=derived_event_id("control-audit", command.event_id),
        ts_event=command.ts_event,
        ts_init=command.ts_init,
        service=service,
        action="control.flatten",
        severity=AUDIT_SEVERITY_WARNING,
        actor=command.actor,
        subject_type="account",
        subject_id=flatten.account,
        symbol=flatten.symbol,
        account=flatten.account,
        message=f"flatten {what} of {flatten.account} by {command.actor}: {command.reason}",
        attributes={"reason": command.reason},
        causation_event_id=command.event_id,
    )


class _Publisher(Protocol):
    async def publish(self, channel: Channel, message: Message) -> None: ...


async def publish_change(bus: _Publisher, change: Change, service: str) -> OperatorCommand:
    """The command, then its audit event (the board in Redis already holds the change)."""
    command = change_command(change)
    await bus.publish(channel("ops.commands"), command)
    await bus.publish(channel("audit.logs"), change_audit(command, change, service))
    return command


class Halter:
    """Automated shutdown: halt a process with a reason, once, and tell everyone.

    A halt that is already in place is not repeated (the first reason stands), so a breaker that
    trips on every order of a bad run writes one audit event, not thousands.
    """

    def __init__(self, control: ControlStore, bus: _Publisher, service: str) -> None:
        self._control, self._bus, self._service = control, bus, service

    async def halt(self, process: Process, scope: str, reason: str) -> Change | None:
        change = await self._control.halt(process, scope, actor=f"{self._service}.controller", reason=reason)
        if change is not None:
            _log.error("control.halted", process=process.value, scope=scope, reason=reason)
            await publish_change(self._bus, change, self._service)
        return change
