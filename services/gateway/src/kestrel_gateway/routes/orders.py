"""Orders: read them with their fills (viewer); submit a manual one (trader).

A manual order is not placed here: it goes to risk as OperatorCommand{submit_order} on ops.commands,
and risk checks it like a signal's order. The answer is therefore 202 with the client_order_id; the
verdict appears in GET /api/risk/decisions and, once approved, in GET /api/orders.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from kestrel_contracts.events import now_ns
from kestrel_gateway.adapters import queries
from kestrel_gateway.auth import runtime_of
from kestrel_gateway.commands import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    audit_event,
    client_order_id,
    submit_order_command,
    valid_idempotency_key,
)
from kestrel_gateway.errors import ApiError
from kestrel_gateway.models import OrderIn
from kestrel_gateway.routes.common import DEFAULT_LIMIT, Limit, SymbolFilter, Trader, Viewer
from kestrel_gateway.serialize import jsonable
from kestrel_platform.logging import get_logger

router = APIRouter(prefix="/api", tags=["orders"])
_log = get_logger("kestrel.gateway.orders")


class OrderStatus(enum.StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


@router.get("/orders", summary="Orders, newest first, each with its fills")
async def orders(
    request: Request,
    _caller: Viewer,
    symbol: SymbolFilter = None,
    status: OrderStatus | None = None,
    account: SymbolFilter = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    rows = await queries.orders_with_fills(
        runtime_of(request).pool, symbol, status.value if status else None, limit, account
    )
    return {"orders": jsonable(rows)}


@router.get("/parent-orders", summary="Parent orders (TWAP, iceberg), newest first, with their children")
async def parent_orders(
    request: Request,
    _caller: Viewer,
    symbol: SymbolFilter = None,
    status: OrderStatus | None = None,
    account: SymbolFilter = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    rows = await queries.parent_orders(
        runtime_of(request).pool, symbol, status.value if status else None, limit, account
    )
    return {"parent_orders": jsonable(rows)}


@router.post(
    "/orders",
    status_code=202,
    summary="Submit a manual order to risk (decided asynchronously)",
    responses={202: {"description": "accepted for the risk check"}},
)
async def submit_order(
    request: Request,
    caller: Trader,
    order: OrderIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
            description="the same key (from the same API key) always names the same order",
        ),
    ] = None,
) -> JSONResponse:
    if idempotency_key is not None and not valid_idempotency_key(idempotency_key):
        raise ApiError(422, "invalid_request", "Idempotency-Key must be 1-128 printable characters")
    runtime = runtime_of(request)
    order_id = client_order_id(caller.key_id, idempotency_key)
    account = order.account or runtime.settings.gateway_default_account
    now = now_ns()
    command = submit_order_command(
        order, account=account, order_id=order_id, requested_by=caller.key_id, now_ns=now
    )
    try:
        await runtime.publish("ops.commands", command)
    except Exception as exc:  # Kafka down or slow: nothing was promised yet, the client may retry
        _log.error("order.publish_failed", client_order_id=order_id, error=repr(exc))
        raise ApiError(
            503,
            "publish_failed",
            "the order could not be handed to risk; retry with the same Idempotency-Key (it is not "
            "placed twice)",
        ) from None
    try:
        await runtime.publish("audit.logs", audit_event(command, now))
    except Exception as exc:  # the order is on its way; a missing audit record must not fail it
        _log.error("order.audit_publish_failed", client_order_id=order_id, error=repr(exc))
    body = {
        "client_order_id": order_id,
        "command_event_id": command.event_id,
        "account": account,
        "status": "SUBMITTED",
        "detail": "risk decides asynchronously: see GET /api/risk/decisions?client_order_id=" + order_id,
    }
    return JSONResponse(body, status_code=202)
