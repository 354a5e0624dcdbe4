"""Risk decisions (viewer) and the global kill switch (read: viewer; set: admin).

Setting the switch writes Redis first, synchronously: once this answers, every decision risk takes
afterwards sees it. The OperatorCommand on ops.commands and the AuditEvent on audit.logs follow; if
Kafka fails there, the switch is still set (Redis is the authority) and the answer says what was not
published, so the operator knows the audit trail lacks it.
"""

from __future__ import annotations

import enum
from typing import Any

from fastapi import APIRouter, Request

from kestrel_contracts.events import now_ns
from kestrel_gateway.adapters import queries
from kestrel_gateway.auth import runtime_of
from kestrel_gateway.commands import audit_event, kill_switch_command
from kestrel_gateway.models import KillSwitchIn
from kestrel_gateway.routes.common import DEFAULT_LIMIT, Admin, Limit, SymbolFilter, Viewer
from kestrel_gateway.serialize import jsonable, ns_iso
from kestrel_platform.kill_switch import KillSwitchState
from kestrel_platform.logging import get_logger

router = APIRouter(prefix="/api/risk", tags=["risk"])
_log = get_logger("kestrel.gateway.risk")


class Outcome(enum.StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


def _state(state: KillSwitchState) -> dict[str, Any]:
    return {
        "engaged": state.engaged,
        "actor": state.actor,
        "reason": state.reason,
        "changed_at": ns_iso(state.changed_at_ns) if state.changed_at_ns else None,
    }


@router.get("/decisions", summary="Risk decisions, newest first")
async def decisions(
    *,
    request: Request,
    _caller: Viewer,
    symbol: SymbolFilter = None,
    outcome: Outcome | None = None,
    client_order_id: SymbolFilter = None,
    account: SymbolFilter = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    rows = await queries.risk_decisions(
        runtime_of(request).pool,
        symbol=symbol,
        outcome=outcome.value if outcome else None,
        client_order_id=client_order_id,
        account=account,
        limit=limit,
    )
    return {"decisions": jsonable(rows)}


@router.get("/kill-switch", summary="The global kill switch")
async def kill_switch_state(request: Request, _caller: Viewer) -> dict[str, Any]:
    return _state(await runtime_of(request).kill_switch.state())


@router.post("/kill-switch", summary="Engage or release the global kill switch (admin)")
async def set_kill_switch(request: Request, caller: Admin, body: KillSwitchIn) -> dict[str, Any]:
    runtime = runtime_of(request)
    reason = body.reason.strip()
    state = await runtime.kill_switch.set(body.engaged, caller.key_id, reason)
    _log.warning("kill_switch.set", engaged=body.engaged, actor=caller.key_id, reason=reason)
    now = now_ns()
    command = kill_switch_command(body.engaged, reason, caller.key_id, now)
    published = {"command": False, "audit": False}
    try:
        await runtime.publish("ops.commands", command)
        published["command"] = True
        await runtime.publish("audit.logs", audit_event(command, now))
        published["audit"] = True
    except Exception as exc:  # the switch is set; say what did not reach Kafka rather than fail
        _log.error("kill_switch.publish_failed", error=repr(exc), published=published)
    return {**_state(state), "command_event_id": command.event_id, "published": published}
