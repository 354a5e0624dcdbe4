"""The production controller: read the board (viewer); steer processes, run windows, instrument modes
and flattens (admin).

Like the kill switch, a change is written to Redis first, synchronously: once this answers, every
process that reads the board sees it. The OperatorCommand on ops.commands (so processes react at once)
and the AuditEvent on audit.logs follow; if Kafka fails there the change still stands (Redis is the
authority) and `published` says what did not reach Kafka. A flatten is different: the command IS the
action (risk sends the closing orders when it reads it), so a flatten Kafka did not take is a 503.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from google.protobuf.message import Message

from kestrel_contracts.events import now_ns
from kestrel_gateway.auth import runtime_of
from kestrel_gateway.commands import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    SERVICE,
    flatten_event_id,
    valid_idempotency_key,
    window_audit,
)
from kestrel_gateway.errors import ApiError
from kestrel_gateway.models import FlattenIn, OverrideIn, ProcessControlIn, RunWindowIn
from kestrel_gateway.routes.common import Admin, Viewer
from kestrel_gateway.runtime import GatewayRuntime
from kestrel_gateway.serialize import ns_iso
from kestrel_platform.control import (
    ALL,
    DEPENDENCIES,
    Board,
    Change,
    Effective,
    Mode,
    Override,
    Process,
    ProcessRecord,
    RunWindow,
    TransitionError,
)
from kestrel_platform.control_events import (
    change_audit,
    change_command,
    flatten_audit,
    flatten_command,
    override_audit,
    override_command,
)
from kestrel_platform.control_store import HISTORY_LENGTH
from kestrel_platform.logging import get_logger

router = APIRouter(prefix="/api/control", tags=["control"])
_log = get_logger("kestrel.gateway.control")

ProcessName = Annotated[Process, Path(description="the process to steer; an unknown name is a 422")]
HistoryLimit = Annotated[int, Query(ge=1, le=HISTORY_LENGTH, description="newest changes first")]


def _iso(ts_ns: int) -> str | None:
    return ns_iso(ts_ns) if ts_ns else None


def _record(record: ProcessRecord) -> dict[str, Any]:
    return {
        "state": record.state.value,
        "actor": record.actor,
        "reason": record.reason,
        "changed_at": _iso(record.changed_at_ns),
        "automated": record.automated,
    }


def _effective(effective: Effective) -> dict[str, Any]:
    return {"state": effective.state.value, "reason": effective.reason}


def _override(override: Override) -> dict[str, Any]:
    return {
        "account": override.account,
        "symbol": override.symbol,
        "mode": override.mode.value,
        "actor": override.actor,
        "reason": override.reason,
        "changed_at": _iso(override.changed_at_ns),
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        "process": change.process.value,
        "scope": change.scope,
        "action": change.action.value,
        "before": change.before.value,
        "after": change.after.value,
        "actor": change.actor,
        "reason": change.reason,
        "at": _iso(change.at_ns),
        "automated": change.automated,
    }


def board_view(board: Board, at_ns: int) -> dict[str, Any]:
    """Every process with its stored records, and its effective state for "*" and each account the
    board names (in a record or an instrument override), judged at `at_ns`."""
    accounts = sorted({s for s in board.scopes() if s != ALL} | {a for a, _ in board.overrides})
    processes = [
        {
            "process": process.value,
            "depends_on": [d.value for d in DEPENDENCIES[process]],
            "records": {
                scope: _record(record) for (p, scope), record in sorted(board.records.items()) if p is process
            },
            "effective": {
                scope: _effective(board.effective(process, scope, at_ns)) for scope in (ALL, *accounts)
            },
        }
        for process in Process
    ]
    return {
        "at": ns_iso(at_ns),
        "processes": processes,
        "windows": {p.value: w.text for p, w in sorted(board.windows.items())},
        "overrides": [_override(o) for _, o in sorted(board.overrides.items())],
    }


async def _publish(
    runtime: GatewayRuntime, what: str, *messages: tuple[str, str, Message]
) -> dict[str, bool]:
    """Publish in order, stopping at the first failure; which of them reached Kafka, by label."""
    published = dict.fromkeys((label for label, _, _ in messages), False)
    try:
        for label, channel_name, message in messages:
            await runtime.publish(channel_name, message)
            published[label] = True
    except Exception as exc:  # the change is stored; say what did not reach Kafka rather than fail
        _log.error(f"{what}.publish_failed", error=repr(exc), published=published)
    return published


@router.get("", summary="The production controller's board: processes, run windows, instrument modes")
async def control_board(request: Request, _caller: Viewer) -> dict[str, Any]:
    return board_view(await runtime_of(request).control.board(), now_ns())


@router.post(
    "/processes/{process}",
    summary="Pause, resume, stop, start or halt a process, for one account or all (admin)",
    responses={409: {"description": "the action does not apply to the process's current state"}},
)
async def control_process(
    request: Request, caller: Admin, process: ProcessName, body: ProcessControlIn
) -> dict[str, Any]:
    runtime = runtime_of(request)
    try:
        change = await runtime.control.apply(
            process, body.account, body.action, actor=caller.key_id, reason=body.reason
        )
    except TransitionError as exc:
        raise ApiError(409, "invalid_transition", f"{exc} (scope {body.account})") from None
    _log.warning("control.changed", **_change(change))
    command = change_command(change)
    published = await _publish(
        runtime,
        "control.change",
        ("command", "ops.commands", command),
        ("audit", "audit.logs", change_audit(command, change, SERVICE)),
    )
    effective = (await runtime.control.board()).effective(process, body.account, now_ns())
    return {
        "change": _change(change),
        "effective": _effective(effective),
        "command_event_id": command.event_id,
        "published": published,
    }


@router.put("/processes/{process}/window", summary="Set or clear (empty) a process's run window (admin)")
async def control_window(
    request: Request, caller: Admin, process: ProcessName, body: RunWindowIn
) -> dict[str, Any]:
    runtime = runtime_of(request)
    window = RunWindow.parse(body.window)
    await runtime.control.set_window(process, window)
    _log.warning("control.window", process=process.value, window=window.text, actor=caller.key_id)
    audit = window_audit(process, window, actor=caller.key_id, reason=body.reason, now_ns=now_ns())
    published = await _publish(runtime, "control.window", ("audit", "audit.logs", audit))
    return {
        "process": process.value,
        "window": window.text,
        "always": window.always,
        "audit_event_id": audit.event_id,
        "published": published,
    }


@router.post("/overrides", summary="Set an instrument's mode for an account: normal, reduce-only, close-only")
async def control_override(request: Request, caller: Admin, body: OverrideIn) -> dict[str, Any]:
    runtime = runtime_of(request)
    override = await runtime.control.set_mode(
        body.account, body.symbol, body.mode, actor=caller.key_id, reason=body.reason
    )
    _log.warning("control.mode", **_override(override))
    command = override_command(override)
    published = await _publish(
        runtime,
        "control.mode",
        ("command", "ops.commands", command),
        ("audit", "audit.logs", override_audit(command, override, SERVICE)),
    )
    return {**_override(override), "command_event_id": command.event_id, "published": published}


@router.post(
    "/flatten",
    status_code=202,
    summary="Close an account's positions at market, one symbol (made close-only first) or all (admin)",
    responses={
        202: {"description": "handed to risk, which sends the closing orders"},
        503: {"description": "Kafka did not take the command; retry with the same Idempotency-Key"},
    },
)
async def control_flatten(
    request: Request,
    caller: Admin,
    body: FlattenIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
            description="the same key (from the same API key) always names the same flatten command",
        ),
    ] = None,
) -> JSONResponse:
    if idempotency_key is not None and not valid_idempotency_key(idempotency_key):
        raise ApiError(422, "invalid_request", "Idempotency-Key must be 1-128 printable characters")
    runtime = runtime_of(request)
    published: dict[str, bool] = {}
    if body.symbol is not None:
        # Close-only first, so no order growing the position slips in while the flatten is on its way.
        override = await runtime.control.set_mode(
            body.account, body.symbol, Mode.CLOSE_ONLY, actor=caller.key_id, reason=body.reason
        )
        mode_command = override_command(override)
        mode_published = await _publish(
            runtime,
            "control.mode",
            ("command", "ops.commands", mode_command),
            ("audit", "audit.logs", override_audit(mode_command, override, SERVICE)),
        )
        published = {f"close_only_{label}": done for label, done in mode_published.items()}
    now = now_ns()
    command = flatten_command(
        flatten_event_id(caller.key_id, idempotency_key),
        body.account,
        body.symbol or "",
        actor=caller.key_id,
        reason=body.reason,
        at_ns=now,
    )
    _log.warning("control.flatten", account=body.account, symbol=body.symbol, actor=caller.key_id)
    try:
        await runtime.publish("ops.commands", command)
    except Exception as exc:  # nothing closes the positions until risk has the command
        _log.error("control.flatten_publish_failed", event_id=command.event_id, error=repr(exc))
        stands = f"; {body.symbol} of {body.account} stays close-only" if body.symbol else ""
        raise ApiError(
            503,
            "publish_failed",
            "the flatten could not be handed to risk; retry with the same Idempotency-Key (it is not "
            f"applied twice){stands}",
        ) from None
    flattened = await _publish(
        runtime, "control.flatten", ("audit", "audit.logs", flatten_audit(command, SERVICE))
    )
    body_out = {
        "command_event_id": command.event_id,
        "account": body.account,
        "symbol": body.symbol,
        "mode": Mode.CLOSE_ONLY.value if body.symbol else None,
        "published": {**published, "command": True, **flattened},
        "detail": "risk sends one closing order per symbol held: see GET /api/risk/decisions?account="
        + body.account,
    }
    return JSONResponse(body_out, status_code=202)


@router.get("/history", summary="The controller's state changes, newest first")
async def control_history(request: Request, _caller: Viewer, limit: HistoryLimit = 100) -> dict[str, Any]:
    return {"history": [_change(c) for c in await runtime_of(request).control.history(limit)]}
