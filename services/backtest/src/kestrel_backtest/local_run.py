"""What `kestrel backtest run` does: a backtest in this process with a progress bar, or one submitted
to the backtest service and followed in the store until it ends."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kestrel_backtest.domain import BacktestInputError, MarketData
from kestrel_backtest.jobs import JobPlan, plan_job
from kestrel_backtest.market_data import sample_market, store_market
from kestrel_backtest.report_files import report_context
from kestrel_backtest.reports import REPORT_FORMATS, ReportFormat, render
from kestrel_backtest.runner import JobOutcome, json_metrics, run_plan
from kestrel_backtest.settings import BacktestSettings
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.backtest_job_pb2 import BacktestJob
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.settings import load_settings_or_exit
from kestrel_store.backtest_queries import get_run
from kestrel_store.backtest_runs import FINISHED, record_submission
from kestrel_store.pool import create_pool

_SUFFIXES: Mapping[str, ReportFormat] = {
    ".json": "json",
    ".zip": "csv",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".html": "html",
    ".pdf": "pdf",
    ".pine": "pine",
}


@dataclass(frozen=True)
class LocalRun:
    plan: JobPlan
    outcome: JobOutcome
    source: str

    def table(self) -> Table:
        return metrics_table(
            f"{self.plan.spec.strategy.strategy_id} on {', '.join(self.plan.spec.symbols)} "
            f"({self.plan.mode}, bars from {self.source})",
            json_metrics(self.outcome.report.metrics),
            {k: str(v) for k, v in self.outcome.report.money.items()},
        )


def metrics_table(title: str, metrics: Mapping[str, float | None], money: Mapping[str, str]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, text in money.items():
        table.add_row(name, text)
    for name, value in metrics.items():
        table.add_row(name, "—" if value is None or not math.isfinite(value) else f"{value:,.4f}")
    return table


def report_format(path: Path) -> ReportFormat:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise BacktestInputError(
            f"cannot tell a report format from {path.name}: use one of {sorted(_SUFFIXES)}"
        )
    return fmt


async def _store_market(plan: JobPlan) -> MarketData:
    settings = load_settings_or_exit(BacktestSettings)
    pool = await create_pool(settings.database_url, application_name="kestrel-cli", min_size=1, max_size=2)
    try:
        spec = plan.spec
        return await store_market(
            pool, spec.symbols, spec.timeframe, plan.start, plan.end, reference=plan.reference_symbol
        )
    finally:
        await pool.close()


async def _market(plan: JobPlan, source: str) -> tuple[MarketData, str]:
    """Bars from the store (``store``), the samples (``sample``), or the store when it has them all."""
    if source != "sample":
        try:
            market = await _store_market(plan)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:  # no store here, or not migrated
            if source == "store":
                raise BacktestInputError(f"cannot read bars from the store: {exc}") from None
        else:
            if source == "store" or all(not market.bars[s].empty for s in plan.spec.symbols):
                return market, "the store"
    spec = plan.spec
    if spec.timeframe != "1d":
        raise BacktestInputError(
            f"the packaged samples are daily bars; no {spec.timeframe} bars in the store"
        )
    return sample_market(spec.symbols, plan.start, plan.end, plan.reference_symbol), "the packaged samples"


async def run_locally(plan: JobPlan, source: str, console: Console, reports: Sequence[Path]) -> LocalRun:
    formats = [report_format(path) for path in reports]  # refuse a bad suffix before the run
    market, origin = await _market(plan, source)
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("running", total=1.0)

        def progress(fraction: float, _bars: int, stage: str) -> None:
            bar.update(task, completed=fraction, description=stage)

        outcome = await asyncio.to_thread(run_plan, plan, market, progress)
    context = report_context(plan)
    for path, fmt in zip(reports, formats, strict=True):
        path.write_bytes(render(outcome.report, context, fmt))
        console.print(f"wrote {fmt} report: {path}")
    return LocalRun(plan, outcome, origin)


async def submit_and_follow(job: BacktestJob, console: Console, poll_s: float = 0.5) -> int:
    """Record and publish the job, then follow its run; 0 when it succeeded."""
    settings = load_settings_or_exit(BacktestSettings)
    plan = plan_job(job)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    bus = KafkaBus(settings.kafka_bootstrap, client_id="kestrel-cli")
    try:
        await record_submission(pool, plan.submission)
        await bus.publish(channel("backtest.jobs"), job, key=job.job_id)
        console.print(f"submitted backtest {job.job_id}")
        run = await _follow(pool, uuid.UUID(job.job_id), console, poll_s)
    finally:
        await bus.close()
        await pool.close()
    if run["status"] != "SUCCEEDED":
        console.print(f"[red]{run['status']}[/red]: {run.get('error') or ''}")
        return 1
    console.print(metrics_table(f"{run['strategy_id']} ({run['mode']})", run["metrics"], run["money"]))
    return 0


async def _follow(pool: Any, run_id: uuid.UUID, console: Console, poll_s: float) -> dict[str, Any]:
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("queued", total=1.0)
        while True:
            run = await get_run(pool, run_id)
            assert run is not None  # recorded above
            bar.update(task, completed=run["progress"], description=run["status"].lower())
            if run["status"] in FINISHED:
                return run
            await asyncio.sleep(poll_s)


__all__ = ["REPORT_FORMATS", "LocalRun", "metrics_table", "run_locally", "submit_and_follow"]
