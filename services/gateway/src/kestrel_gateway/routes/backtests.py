"""The strategy catalogue and backtests: list strategies (viewer); submit a backtest (trader) and read
its status, progress, metrics, trades, equity and reports (viewer).

A backtest is not run here: the request is checked against the strategy's parameter space, recorded
in backtest.runs as QUEUED (so its status is readable at once) and handed to the backtest service on
backtest.jobs. The answer is 202 with the job id; progress arrives over /ws (subscribe to
"backtest:<job id>") and in GET /api/backtest/{id}.
"""

from __future__ import annotations

import enum
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from kestrel_contracts.backtest_jobs import new_job
from kestrel_contracts.events import derived_event_id, ns_to_datetime
from kestrel_gateway.auth import runtime_of
from kestrel_gateway.commands import IDEMPOTENCY_KEY_MAX_LENGTH, valid_idempotency_key
from kestrel_gateway.errors import ApiError
from kestrel_gateway.models import BacktestIn
from kestrel_gateway.routes.common import DEFAULT_LIMIT, Limit, SymbolFilter, Trader, Viewer
from kestrel_gateway.serialize import jsonable, row_dict
from kestrel_platform.logging import get_logger
from kestrel_store import backtest_queries as runs
from kestrel_store.backtest_runs import RunSubmission, record_submission
from kestrel_strategies import ParameterError, UnknownStrategyError, get, strategies

router = APIRouter(prefix="/api", tags=["backtests"])
_log = get_logger("kestrel.gateway.backtests")
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such backtest"}}


class RunStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class ReportFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"
    PDF = "pdf"
    PINE = "pine"


_EXTENSIONS = {"json": "json", "csv": "zip", "xlsx": "xlsx", "html": "html", "pdf": "pdf", "pine": "pine"}
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/strategies", summary="The strategy catalogue with each strategy's parameter space")
async def list_strategies(_caller: Viewer) -> dict[str, Any]:
    return {"strategies": [d.describe() for d in strategies().values()]}


@router.get("/strategies/{name}", summary="One strategy's definition", responses={404: {}})
async def strategy(name: Annotated[str, Path(max_length=64)], _caller: Viewer) -> dict[str, Any]:
    try:
        return get(name).describe()
    except UnknownStrategyError as exc:
        raise ApiError(404, "unknown_strategy", str(exc)) from None


def _check(body: BacktestIn) -> dict[str, str]:
    """The strategy's typed parameters as text, or a 422 naming every problem."""
    try:
        bound = get(body.strategy).bind(dict(body.parameters))
    except UnknownStrategyError as exc:
        raise ApiError(422, "unknown_strategy", str(exc)) from None
    except ParameterError as exc:
        raise ApiError(422, "invalid_parameters", str(exc)) from None
    if bound.needs_reference and not body.reference_symbol:
        raise ApiError(422, "invalid_request", f"strategy {bound.name} reads a reference_symbol: give one")
    if bound.definition.inputs:
        raise ApiError(
            422,
            "unsupported_strategy",
            f"strategy {bound.name} reads model outputs {list(bound.definition.inputs)}; the backtest "
            "service does not compute them yet",
        )
    return {k: str(v) for k, v in bound.params.items()}


@router.post(
    "/backtest",
    status_code=202,
    summary="Submit a backtest (runs asynchronously on the backtest service)",
    responses={202: {"description": "queued"}},
)
async def submit_backtest(
    request: Request,
    caller: Trader,
    body: BacktestIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
            description="the same key (from the same API key) always names the same backtest",
        ),
    ] = None,
) -> JSONResponse:
    if idempotency_key is not None and not valid_idempotency_key(idempotency_key):
        raise ApiError(422, "invalid_request", "Idempotency-Key must be 1-128 printable characters")
    parameters = _check(body)
    runtime = runtime_of(request)
    job_id = (
        derived_event_id("gateway-backtest", caller.key_id, idempotency_key)
        if idempotency_key is not None
        else str(uuid.uuid4())
    )
    job = new_job(
        body.strategy,
        body.symbols,
        body.start,
        body.end,
        parameters=parameters,
        mode=body.mode.value,
        timeframe=body.timeframe,
        initial_cash=str(body.initial_cash),
        fee_rate=str(body.fee_rate),
        slippage_bps=str(body.slippage_bps),
        sizing_fraction=str(body.sizing_fraction),
        allow_short=body.allow_short,
        reference_symbol=body.reference_symbol,
        requested_by=caller.key_id,
        job_id=job_id,
    )
    await record_submission(runtime.pool, _submission(job, body))
    try:
        await runtime.publish("backtest.jobs", job)
    except Exception as exc:  # recorded but not handed over: the same Idempotency-Key submits it again
        _log.error("backtest.publish_failed", job_id=job_id, error=repr(exc))
        raise ApiError(
            503, "publish_failed", "the job could not be queued; retry with the same Idempotency-Key"
        ) from None
    body_out = {"job_id": job_id, "status": "QUEUED", "links": _links(job_id)}
    return JSONResponse(body_out, status_code=202)


def _submission(job: Any, body: BacktestIn) -> RunSubmission:
    return RunSubmission(
        run_id=uuid.UUID(job.job_id),
        job_event_id=uuid.UUID(job.event_id),
        strategy=job.strategy_id,
        parameters=dict(job.parameters),
        symbols=list(job.symbols),
        timeframe=job.timeframe,
        start_ts=ns_to_datetime(job.start_ns),
        end_ts=ns_to_datetime(job.end_ns),
        mode=job.mode,
        spec=jsonable(body.model_dump(exclude={"strategy", "symbols", "parameters", "start", "end"})),
        submitted_by=job.requested_by,
    )


def _links(job_id: str) -> dict[str, str]:
    base = f"/api/backtest/{job_id}"
    return {"self": base, "trades": f"{base}/trades", "equity": f"{base}/equity", "report": f"{base}/report"}


@router.get("/backtests", summary="Backtests, newest first (filter by strategy, status, symbol)")
async def list_backtests(  # noqa: PLR0917 - FastAPI passes query parameters by name
    request: Request,
    _caller: Viewer,
    strategy: SymbolFilter = None,
    status: RunStatus | None = None,
    symbol: SymbolFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows = await runs.list_runs(
        runtime_of(request).pool,
        strategy=strategy,
        status=status.value if status else None,
        symbol=symbol,
        limit=limit,
        offset=offset,
    )
    return {"backtests": jsonable(rows)}


@router.get("/backtests/compare", summary="Metrics of several backtests side by side", responses=NOT_FOUND)
async def compare(
    request: Request, _caller: Viewer, ids: Annotated[list[uuid.UUID], Query(min_length=2, max_length=20)]
) -> dict[str, Any]:
    pool = runtime_of(request).pool
    found = [await runs.get_run(pool, run_id) for run_id in ids]
    missing = [str(i) for i, run in zip(ids, found, strict=True) if run is None]
    if missing:
        raise ApiError(404, "not_found", f"no backtest {', '.join(missing)}")
    keys = ("run_id", "status", "strategy_id", "symbols", "mode", "metrics", "money")
    return {"backtests": jsonable([{k: run[k] for k in keys} for run in found if run is not None])}


async def _run(request: Request, run_id: uuid.UUID) -> dict[str, Any]:
    run = await runs.get_run(runtime_of(request).pool, run_id)
    if run is None:
        raise ApiError(404, "not_found", f"no backtest {run_id}")
    return run


@router.get("/backtest/{run_id}", summary="A backtest's status, progress and metrics", responses=NOT_FOUND)
async def backtest(request: Request, _caller: Viewer, run_id: uuid.UUID) -> dict[str, Any]:
    run = await _run(request, run_id)
    run["reports"] = await runs.report_formats(runtime_of(request).pool, run_id)
    return row_dict(run)


async def _rows(request: Request, run_id: uuid.UUID, table: str, limit: int, offset: int) -> dict[str, Any]:
    await _run(request, run_id)
    rows = await runs.run_rows(runtime_of(request).pool, run_id, table, limit=limit, offset=offset)
    return {table: jsonable(rows)}


@router.get("/backtest/{run_id}/trades", summary="A backtest's round trips", responses=NOT_FOUND)
async def trades(
    request: Request, _caller: Viewer, run_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    return await _rows(request, run_id, "trades", limit, offset)


@router.get("/backtest/{run_id}/fills", summary="A backtest's fills (Decimal strings)", responses=NOT_FOUND)
async def fills(
    request: Request, _caller: Viewer, run_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    return await _rows(request, run_id, "fills", limit, offset)


@router.get("/backtest/{run_id}/rejections", summary="Decisions that traded nothing", responses=NOT_FOUND)
async def rejections(
    request: Request, _caller: Viewer, run_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    return await _rows(request, run_id, "rejections", limit, offset)


@router.get(
    "/backtest/{run_id}/equity", summary="Equity, benchmark and drawdown per bar", responses=NOT_FOUND
)
async def equity(
    request: Request, _caller: Viewer, run_id: uuid.UUID, limit: Limit = 5000, offset: Offset = 0
) -> dict[str, Any]:
    return await _rows(request, run_id, "equity", limit, offset)


@router.get(
    "/backtest/{run_id}/report",
    summary="Download a finished backtest's report",
    responses={**NOT_FOUND, 409: {"description": "the backtest has not succeeded (yet)"}},
)
async def report(
    request: Request, _caller: Viewer, run_id: uuid.UUID, format: ReportFormat = ReportFormat.HTML
) -> Response:
    run = await _run(request, run_id)
    if run["status"] != "SUCCEEDED":
        detail = f"backtest {run_id} is {run['status']}: reports exist once it succeeded"
        raise ApiError(409, "not_ready", detail)
    found = await runs.run_report(runtime_of(request).pool, run_id, format.value)
    if found is None:
        raise ApiError(404, "no_report", f"backtest {run_id} has no {format.value} report")
    media_type, content = found
    name = f"backtest-{run_id}.{_EXTENSIONS[format.value]}"
    disposition = "inline" if format is ReportFormat.HTML else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"'}
    return Response(content, media_type=media_type, headers=headers)
