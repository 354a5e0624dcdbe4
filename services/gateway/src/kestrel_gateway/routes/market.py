"""Market data, signals and the activity summary (viewer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from kestrel_gateway.adapters import queries
from kestrel_gateway.auth import runtime_of
from kestrel_gateway.errors import ApiError
from kestrel_gateway.routes.common import DEFAULT_LIMIT, Limit, SymbolFilter, Viewer
from kestrel_gateway.serialize import jsonable

router = APIRouter(prefix="/api", tags=["market"])


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ApiError(422, "invalid_request", f"{name} needs a timezone, e.g. 2024-01-01T00:00:00Z")
    return value


@router.get("/bars", summary="OHLCV bars, oldest first (the latest `limit` unless `start` is given)")
async def bars(
    *,
    request: Request,
    _caller: Viewer,
    symbol: Annotated[str, Query(min_length=1, max_length=64)],
    timeframe: Annotated[str, Query(min_length=1, max_length=8)] = "1m",
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    start, end = _aware(start, "start"), _aware(end, "end")
    if start is not None and end is not None and end <= start:
        raise ApiError(422, "invalid_request", "end must be after start")
    rows = await queries.bars(runtime_of(request).pool, symbol, timeframe, start=start, end=end, limit=limit)
    return {"symbol": symbol, "timeframe": timeframe, "bars": jsonable(rows)}


@router.get("/signals", summary="Model signals, newest first")
async def signals(
    request: Request, _caller: Viewer, symbol: SymbolFilter = None, limit: Limit = DEFAULT_LIMIT
) -> dict[str, Any]:
    rows = await queries.signals(runtime_of(request).pool, symbol, limit)
    return {"signals": jsonable(rows)}


@router.get("/metrics", summary="Activity summary: bars, signals, decisions, orders, fills, fees")
async def summary(request: Request, _caller: Viewer) -> dict[str, Any]:
    result: dict[str, Any] = jsonable(await queries.summary(runtime_of(request).pool))
    return result
