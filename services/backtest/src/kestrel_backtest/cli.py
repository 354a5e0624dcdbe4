"""`kestrel strategies ...` and `kestrel backtest ...`: the catalogue, and backtests from a terminal.

`kestrel backtest run` builds the same BacktestJob the gateway would and validates it the same way;
it then runs in-process (bars from the store, or the packaged samples when the store has none) with
a progress bar, or, with --submit, goes to the backtest service over Kafka and follows the run.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kestrel_backtest.domain import BacktestInputError
from kestrel_backtest.jobs import JobPlan, plan_job
from kestrel_contracts.backtest_jobs import new_job
from kestrel_strategies import get, strategies

strategies_app = typer.Typer(
    help="The strategy catalogue: names, families, parameter spaces.", no_args_is_help=True
)
backtest_app = typer.Typer(help="Backtest a catalogue strategy (fast or exact mode).", no_args_is_help=True)
console = Console()


@strategies_app.command("list")
def list_strategies(
    as_json: bool = typer.Option(False, "--json", help="Print the catalogue as JSON."),
) -> None:
    """Every strategy with its family and parameters (name=default [low, high])."""
    catalogue = [d.describe() for d in strategies().values()]
    if as_json:
        typer.echo(json.dumps(catalogue, indent=2))
        return
    table = Table(title=f"{len(catalogue)} strategies")
    for column in ("name", "family", "parameters", "summary"):
        table.add_column(column, overflow="fold")
    for entry in catalogue:
        params = ", ".join(_param_text(p) for p in entry["parameters"])
        table.add_row(entry["name"], entry["family"], params, entry["summary"])
    console.print(table)


@strategies_app.command("show")
def show_strategy(name: str = typer.Argument(..., help="Strategy name, e.g. sma_cross.")) -> None:
    """One strategy's definition and parameter space as JSON."""
    try:
        typer.echo(json.dumps(get(name).describe(), indent=2))
    except LookupError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from None


def _param_text(p: dict[str, object]) -> str:
    if "low" in p:
        return f"{p['name']}={p['default']} [{p['low']}, {p['high']}]"
    return f"{p['name']}={p['default']}"


def _date(text: str, hint: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date: {text!r}", param_hint=hint) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected name=value, got {pair!r}", param_hint="--param")
        out[name.strip()] = value.strip()
    return out


@backtest_app.command("run")
def run(
    strategy: str = typer.Option(
        ..., help="Catalogue strategy, e.g. sma_cross (see `kestrel strategies list`)."
    ),
    symbols: str = typer.Option("SP500", help="Comma-separated symbols sharing one cash account."),
    param: list[str] = typer.Option([], "--param", help="Strategy parameter name=value (repeatable)."),
    mode: str = typer.Option("fast", help="fast (vectorized) | exact (the live code bar by bar)."),
    start: str = typer.Option("1999-01-01", help="First bar (ISO date, inclusive)."),
    end: str = typer.Option("2019-01-01", help="End of the range (ISO date, exclusive)."),
    timeframe: str = typer.Option("1d", help="Bar timeframe."),
    cash: str = typer.Option("100000", help="Initial cash."),
    fee_rate: str = typer.Option("0.001", help="Fee per fill as a fraction of notional."),
    slippage_bps: str = typer.Option("0", help="Slippage of market fills in basis points."),
    fraction: str = typer.Option("0.1", help="Fraction of equity one position may use."),
    allow_short: bool = typer.Option(False, "--allow-short", help="SELL opens shorts (long-short)."),
    reference: str = typer.Option("", help="Reference symbol for dual_momentum / pairs_spread."),
    source: str = typer.Option("auto", help="auto (store, else samples) | store | sample."),
    report: list[Path] = typer.Option([], "--report", help="Write a report; format from the suffix."),
    submit: bool = typer.Option(False, "--submit", help="Run on the backtest service and follow it."),
) -> None:
    """Backtest one strategy and print its metrics (and write reports)."""
    if source not in ("auto", "store", "sample"):
        raise typer.BadParameter("source must be auto, store or sample", param_hint="--source")
    job = new_job(
        strategy,
        [s.strip() for s in symbols.split(",") if s.strip()],
        _date(start, "--start"),
        _date(end, "--end"),
        parameters=parse_params(param),
        mode=mode,
        timeframe=timeframe,
        initial_cash=cash,
        fee_rate=fee_rate,
        slippage_bps=slippage_bps,
        sizing_fraction=fraction,
        allow_short=allow_short,
        reference_symbol=reference,
        requested_by="cli",
    )
    try:
        plan: JobPlan = plan_job(job)
    except BacktestInputError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(2) from None
    # Imported here: the engine pulls in vectorbt and the report libraries, which `kestrel --help` need not.
    from kestrel_backtest.local_run import run_locally, submit_and_follow  # noqa: PLC0415

    if submit:
        raise typer.Exit(asyncio.run(submit_and_follow(job, console)))
    try:
        done = asyncio.run(run_locally(plan, source, console, report))
    except BacktestInputError as exc:
        console.print(f"[red]failed:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(done.table())
