"""`kestrel`: one entry point, one subcommand per job."""

from __future__ import annotations

import asyncio

import typer

from kestrel_backtest.cli import backtest_app, parse_params, strategies_app
from kestrel_cli.settings import CliSettings
from kestrel_gateway.cli import app as keys_app
from kestrel_ingestion.cli import app as ingest_app

app = typer.Typer(
    help="Kestrel: event-driven trading platform.", no_args_is_help=True, pretty_exceptions_enable=False
)

app.add_typer(ingest_app, name="ingest")
app.add_typer(keys_app, name="keys")
app.add_typer(strategies_app, name="strategies")
app.add_typer(backtest_app, name="backtest")


@app.command()
def demo(
    samples: str = typer.Option("sp500,nasdaq", help="Samples replayed, merged by time (reference first)."),
    bars: int = typer.Option(1500, min=600, help="Latest bars per symbol replayed (warm-up is 498)."),
    exit_when_done: bool = typer.Option(False, "--exit", help="Stop everything after the summary."),
    timeout_s: float = typer.Option(900.0, help="Give up when the loop has not settled by then."),
    strategy: str | None = typer.Option(
        None,
        help="Trade a catalogue strategy instead of the model, e.g. sma_cross (`kestrel strategies list`).",
    ),
    param: list[str] = typer.Option([], "--param", help="The strategy's parameter name=value (repeatable)."),
    reference: str | None = typer.Option(
        None, help="Reference symbol a pairs_spread / dual_momentum strategy reads (not traded), e.g. NASDAQ."
    ),
    broker: str = typer.Option(
        "paper", help="paper, or binance: execution trades on a local Binance-protocol exchange it starts."
    ),
) -> None:
    """The live loop on replayed market data in paper mode (or on the local exchange), then a summary."""
    from kestrel_cli.demo import DemoOptions, run_demo  # noqa: PLC0415 - keep `kestrel --help` fast
    from kestrel_cli.demo_broker import BROKERS  # noqa: PLC0415
    from kestrel_strategies import ParameterError, UnknownStrategyError, build  # noqa: PLC0415

    names = tuple(s.strip() for s in samples.split(",") if s.strip())
    if not names:
        raise typer.BadParameter("give at least one sample", param_hint="--samples")
    params = parse_params(param)
    if (param or reference) and strategy is None:
        raise typer.BadParameter("--param and --reference need --strategy", param_hint="--param/--reference")
    if strategy is not None:
        try:
            needs_reference = build(strategy, params).needs_reference
        except (UnknownStrategyError, ParameterError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--strategy/--param") from None
        if needs_reference != bool(reference):
            why = "reads a reference symbol: give one" if needs_reference else "reads no reference symbol"
            raise typer.BadParameter(f"{strategy} {why}", param_hint="--reference")
    if broker not in BROKERS:
        raise typer.BadParameter(f"one of {', '.join(BROKERS)}", param_hint="--broker")
    settings = CliSettings.load()
    options = DemoOptions(
        samples=names,
        bars=bars,
        exit_when_done=exit_when_done,
        drain_timeout_s=timeout_s,
        strategy=strategy,
        strategy_params=params,
        reference_symbol=reference.strip() if reference else None,
        broker=broker,
    )
    try:
        raise typer.Exit(asyncio.run(run_demo(settings, options)))
    except KeyboardInterrupt:
        typer.echo("\nstopped: every service the demo started has been stopped")


@app.command()
def topics(
    action: str = typer.Argument("create", help="create | list"),
) -> None:
    """Create every registered Kafka topic and Redis stream (idempotent), or list them."""
    from kestrel_messaging.topics import create_all, describe  # noqa: PLC0415

    if action == "list":
        typer.echo(describe())
        return
    if action != "create":
        raise typer.BadParameter("action must be 'create' or 'list'")
    settings = CliSettings.load()
    created = asyncio.run(create_all(settings.kafka_bootstrap, settings.redis_url))
    typer.echo(f"created {len(created)} channel(s)" + (f": {', '.join(sorted(created))}" if created else ""))


@app.command()
def train(
    symbols: str = typer.Option("SP500,NASDAQ", help="Comma-separated symbols whose rows train the model."),
    reference: str = typer.Option("SP500", help="Reference symbol of the cross-asset features."),
    horizon: int = typer.Option(5, min=1, help="Label horizon in bars."),
    cost_bps: float = typer.Option(10.0, min=0.0, help="Round-trip cost in bps (the no-trade band)."),
    labels: str = typer.Option(
        "fixed", help="fixed (sign of the horizon return past the cost band) | triple-barrier."
    ),
    barrier_k: float = typer.Option(2.0, min=0.01, help="Triple barrier: barriers at +-k volatilities."),
    embargo: int | None = typer.Option(None, help="Bars purged before validation (default: horizon)."),
    validation_fraction: float = typer.Option(0.2, min=0.01, max=0.9, help="Latest share of time held out."),
    timeframe: str = typer.Option("1d", help="Bar timeframe."),
    source: str = typer.Option("auto", help="auto (store, else sample) | store | sample."),
    model_name: str = typer.Option("kestrel-direction", help="Registered model name in MLflow."),
    alias: str = typer.Option("live", help="Alias moved to the new version."),
    models: str = typer.Option(
        "lightgbm",
        help="Model kinds cross-validated: logreg, lightgbm, xgboost, ensemble, lstm (comma-separated).",
    ),
    serve: str = typer.Option("lightgbm", help="The kind fitted, registered and put to the gate."),
    cv_folds: int = typer.Option(5, min=0, help="Walk-forward folds (0: no cross-validation)."),
    tune: int = typer.Option(
        0,
        min=0,
        help="Optuna trials per tunable kind on the folds (0: defaults); the served kind's best wins.",
    ),
    gate: bool = typer.Option(
        True,
        "--gate/--no-gate",
        help="Promote to the alias only past the champion/challenger gate (--no-gate: always, recorded).",
    ),
    gate_log_loss_gain: float = typer.Option(
        0.001, min=0.0, help="Gate: the mean fold log-loss gain over the champion it needs."
    ),
    gate_alpha: float = typer.Option(
        0.10, min=0.0, max=1.0, help="Gate: the paired t-test's significance level."
    ),
    gate_return_gain: float = typer.Option(
        0.0, help="Gate: the out-of-sample return gain over the champion it must exceed."
    ),
) -> None:
    """Train a direction classifier, register it in MLflow, and promote it past the gate."""
    from rich.console import Console  # noqa: PLC0415 - keep `kestrel --help` fast

    from kestrel_cli.train_economics import backtest_predictions  # noqa: PLC0415
    from kestrel_inference.training import TrainingConfig, TrainingError, run_training  # noqa: PLC0415
    from kestrel_inference.training.cv_run import parse_kinds  # noqa: PLC0415
    from kestrel_inference.training.promotion import GatePolicy  # noqa: PLC0415
    from kestrel_inference.training.summary import summary_table  # noqa: PLC0415

    if source not in ("auto", "store", "sample"):
        raise typer.BadParameter("source must be auto, store or sample", param_hint="--source")
    if labels not in ("fixed", "triple-barrier"):
        raise typer.BadParameter("labels must be fixed or triple-barrier", param_hint="--labels")
    names = tuple(s.strip() for s in symbols.split(",") if s.strip())
    if not names:
        raise typer.BadParameter("give at least one symbol", param_hint="--symbols")
    if embargo is not None and embargo < horizon:
        raise typer.BadParameter(f"must be at least the horizon ({horizon} bars)", param_hint="--embargo")
    try:
        kinds = parse_kinds(models)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--models") from None
    if cv_folds == 1:
        raise typer.BadParameter(
            "walk-forward needs at least 2 folds (0 turns it off)", param_hint="--cv-folds"
        )
    if tune and not cv_folds:
        raise typer.BadParameter(
            "tuning scores trials on the walk-forward folds: give --cv-folds", param_hint="--tune"
        )
    try:
        served_kinds = parse_kinds(serve)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--serve") from None
    if len(served_kinds) != 1:
        raise typer.BadParameter("give one kind to serve", param_hint="--serve")
    served = served_kinds[0]
    if gate and not cv_folds:
        raise typer.BadParameter(
            "the gate compares models on the walk-forward folds: give --cv-folds or --no-gate",
            param_hint="--cv-folds",
        )
    settings = CliSettings.load()
    config = TrainingConfig(
        symbols=names,
        reference=reference,
        horizon=horizon,
        cost_bps=cost_bps,
        label_method=labels.replace("-", "_"),
        barrier_k=barrier_k,
        embargo=embargo,
        validation_fraction=validation_fraction,
        timeframe=timeframe,
        source=source,  # type: ignore[arg-type]  # checked above
        model_name=model_name,
        alias=alias,
        tracking_uri=settings.mlflow_tracking_uri,
        database_url=settings.database_url,
        models=kinds,
        cv_folds=cv_folds,
        tune_trials=tune,
        economics=backtest_predictions,
        serve=served,
        gate=gate,
        policy=GatePolicy(
            min_log_loss_gain=gate_log_loss_gain, alpha=gate_alpha, min_return_gain=gate_return_gain
        ),
    )
    console = Console()
    try:
        result = run_training(config, report=console.print)
    except TrainingError as exc:
        console.print(f"[red]kestrel train: {exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(summary_table(result))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def retrain(
    ctx: typer.Context,
    psi_threshold: float = typer.Option(0.25, min=0.0, help="Retrain when a feature's PSI exceeds this."),
    force: bool = typer.Option(False, help="Retrain whatever the drift (a scheduled retraining)."),
) -> None:
    """Retrain when the features drifted (PSI from Prometheus): `kestrel train` with the options given
    after `--`, whose challenger is promoted only past the gate."""
    from typer.main import get_command  # noqa: PLC0415

    from kestrel_cli.retrain import DriftReadError, decide, read_drift, retraining_state  # noqa: PLC0415

    settings = CliSettings.load()
    control = asyncio.run(retraining_state(settings.redis_url))
    try:
        readings = read_drift(settings.prometheus_url)
    except DriftReadError as exc:
        if not force:
            typer.echo(f"kestrel retrain: {exc}", err=True)
            raise typer.Exit(1) from exc
        readings = []
    decision = decide(readings, psi_threshold, force=force, control=control)
    typer.echo(
        f"kestrel retrain: {'retraining' if decision.retrain else 'not retraining'}: {decision.reason}"
    )
    if decision.retrain:
        get_command(app).main(["train", *ctx.args], prog_name="kestrel", standalone_mode=False)


if __name__ == "__main__":
    app()
