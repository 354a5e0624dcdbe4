"""One backtest from plan to stored rows and ``BacktestResult``: pure compute, no I/O.

The service runs this in a worker thread (it is CPU-bound) and the CLI runs it in-process; both get
the same rows, the same result message and the same reports.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from kestrel_backtest.accounting import TRADE_COLUMNS, BacktestReport, report
from kestrel_backtest.domain import EnginePath, MarketData
from kestrel_backtest.exact import run_exact
from kestrel_backtest.fast import run_fast
from kestrel_backtest.jobs import JobPlan
from kestrel_contracts.events import derived_event_id, ns_to_datetime
from kestrel_contracts.v1.backtest_result_pb2 import (
    BACKTEST_STATUS_FAILED,
    BACKTEST_STATUS_SUCCEEDED,
    BacktestResult,
)
from kestrel_store.backtest_runs import RunOutput, money_text

# (fraction done, bars processed, stage) -> None; called from the thread that runs the backtest.
ProgressFn = Callable[[float, int, str], None]
Renderer = Callable[[BacktestReport, JobPlan], dict[str, tuple[str, bytes]]]


@dataclass(frozen=True)
class JobOutcome:
    path: EnginePath
    report: BacktestReport
    output: RunOutput


def run_plan(
    plan: JobPlan,
    market: MarketData,
    progress: ProgressFn | None = None,
    renderer: Renderer | None = None,
) -> JobOutcome:
    """Run the plan's engine on ``market``, account it and shape what is stored."""
    notify = progress or (lambda _f, _n, _s: None)
    spec = plan.spec
    market.check(spec)
    total = sum(len(market.bars[s]) for s in spec.symbols)
    notify(0.0, 0, "running")
    if plan.mode == "exact":
        # Exact mode steps through bar times; 90% of the work is there, accounting is the rest.
        path = run_exact(spec, market, lambda i, n: notify(0.9 * i / n, total * i // n, "running"))
    else:
        path = run_fast(spec, market)
    notify(0.9, total, "accounting")
    result = report(spec, market, path.fills)
    reports = renderer(result, plan) if renderer is not None else {}
    return JobOutcome(path, result, _output(plan, path, result, reports))


def _output(
    plan: JobPlan, path: EnginePath, result: BacktestReport, reports: dict[str, tuple[str, bytes]]
) -> RunOutput:
    fills = [
        (
            ns_to_datetime(f.ts_ns),
            f.symbol,
            f.side.value.removeprefix("SIDE_"),
            f.quantity,
            f.price,
            f.fee,
            f.client_order_id,
        )
        for f in path.fills
    ]
    t = result.trades
    closed = (t["status"] == "closed").tolist()
    trades = [
        (sym, side, status, _ts(e0), _ts(e1) if c else None, size, p0, p1 if c else None, fees, pnl, ret)
        for sym, side, status, e0, e1, size, p0, p1, fees, pnl, ret, c in zip(
            *(t[col].tolist() for col in TRADE_COLUMNS), closed, strict=True
        )
    ]
    rejections = [
        (ns_to_datetime(r.ts_event), r.symbol, r.action, r.reason, r.detail) for r in path.rejections
    ]
    equity = [
        (pd.Timestamp(ts).to_pydatetime(), _finite(e), _finite(b), _finite(d))
        for ts, e, b, d in result.equity[["ts", "equity", "benchmark", "drawdown"]].itertuples(index=False)
    ]
    return RunOutput(
        strategy_id=plan.spec.strategy.strategy_id,
        metrics=json_metrics(result.metrics),
        money=money_text(result.money),
        bars_processed=path.bars,
        fills=fills,
        trades=trades,
        rejections=rejections,
        equity=equity,
        reports=reports,
    )


def _ts(ns: Any) -> datetime:
    return ns_to_datetime(int(ns))


def _finite(x: Any) -> float:
    value = float(x)
    return value if math.isfinite(value) else 0.0


def json_metrics(metrics: dict[str, float]) -> dict[str, float | None]:
    """NaN/inf as null: JSON has neither, and a Sharpe of a flat line is undefined, not zero."""
    return {k: (float(v) if math.isfinite(v) else None) for k, v in metrics.items()}


def result_event_id(plan_event_id: str) -> str:
    """One result per job: a republished result (a redelivered finished job) keeps its id."""
    return derived_event_id("backtest-result", plan_event_id)


def success_result(plan: JobPlan, outcome: JobOutcome, started_ns: int) -> BacktestResult:
    m, money = outcome.report.metrics, outcome.report.money
    return BacktestResult(
        event_id=result_event_id(str(plan.job_event_id)),
        ts_event=time.time_ns(),
        ts_init=time.time_ns(),
        job_id=str(plan.job_id),
        job_event_id=str(plan.job_event_id),
        status=BACKTEST_STATUS_SUCCEEDED,
        started_at_ns=started_ns,
        bars_processed=outcome.path.bars,
        trade_count=len(outcome.path.fills),
        initial_cash=str(money["initial_cash"]),
        final_equity=str(money["final_equity"]),
        net_pnl=str(money["net_pnl"]),
        total_fees=str(money["total_fees"]),
        quote_asset=plan.quote_asset,
        total_return=m["total_return"],
        annualized_return=m["annualized_return"],
        sharpe_ratio=m["sharpe_ratio"],
        sortino_ratio=m["sortino_ratio"],
        max_drawdown=m["max_drawdown"],
        win_rate=m["win_rate"],
        artifact_uri=f"backtest.runs/{plan.job_id}",
        mode=plan.mode,
        metrics=m,
        rejection_count=len(outcome.path.rejections),
        strategy_id=plan.spec.strategy.strategy_id,
    )


def failure_result(job_id: str, job_event_id: str, error: BaseException, started_ns: int) -> BacktestResult:
    return BacktestResult(
        event_id=result_event_id(job_event_id),
        ts_event=time.time_ns(),
        ts_init=time.time_ns(),
        job_id=job_id,
        job_event_id=job_event_id,
        status=BACKTEST_STATUS_FAILED,
        error_type=type(error).__name__,
        error_message=str(error) or type(error).__name__,
        started_at_ns=started_ns,
    )
