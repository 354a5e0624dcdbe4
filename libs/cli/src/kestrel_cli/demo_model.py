"""The demo's model: trained (when none is registered) so that every bar the demo trades is out of
its sample, and the summary lines that say how the traded bars stand against the served model's
training range, with its out-of-sample metrics beside the P&L."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console

from kestrel_cli.settings import CliSettings


@dataclass(frozen=True)
class DemoModel:
    name: str
    version: str
    trained_now: bool


def first_traded_ts(samples: tuple[str, ...], bars: int, warmup: int) -> datetime:
    """Open time of the first replayed bar that gets a feature vector (and so a signal), any symbol."""
    from kestrel_ingestion.domain import RawBar  # noqa: PLC0415 - slow imports, only here
    from kestrel_ingestion.sources.merged import sample_source  # noqa: PLC0415

    by_symbol: dict[str, list[int]] = {}
    for item in sample_source(samples, last=bars).items():
        if isinstance(item, RawBar):
            by_symbol.setdefault(item.symbol, []).append(item.ts_open)
    firsts = [sorted(ts)[warmup - 1] for ts in by_symbol.values() if len(ts) >= warmup]
    return datetime.fromtimestamp(min(firsts) / 1e9, tz=UTC)


def ensure_model(
    settings: CliSettings,
    database_url: str,
    console: Console,
    traded_from: datetime,
    *,
    name: str = "kestrel-direction",
) -> DemoModel:
    """The live model ``name``; trains and registers one, validated from ``traded_from`` on, when
    none is."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415 - slow import, only here

    from kestrel_inference.model_registry import MlflowModelSource  # noqa: PLC0415
    from kestrel_inference.training import TrainingConfig, run_training  # noqa: PLC0415

    config = TrainingConfig(
        tracking_uri=settings.mlflow_tracking_uri,
        database_url=database_url,
        source="sample",
        model_name=name,
        validation_start=traded_from,  # the model never trains on a bar the demo trades
    )
    try:
        version = MlflowModelSource(settings.mlflow_tracking_uri).alias_version(
            config.model_name, config.alias
        )
        return DemoModel(config.model_name, str(version), trained_now=False)
    except MlflowException:
        console.print(f"no model under {config.model_name}@{config.alias}: training one on the samples")
    result = run_training(config, report=console.print)
    return DemoModel(config.model_name, result.registered.version, trained_now=True)


def model_rows(settings: CliSettings, model: DemoModel, traded_from: datetime) -> list[tuple[str, str]]:
    """Summary rows: the version, its validation metrics, and whether the traded bars are in-sample."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    client = MlflowClient(settings.mlflow_tracking_uri)
    version = client.get_model_version(model.name, model.version)
    run = client.get_run(version.run_id) if version.run_id else None
    how = "trained now" if model.trained_now else "registered earlier"
    rows = [("model", f"{model.name} v{model.version} ({how})")]
    if run is None:
        return [*rows, ("model out-of-sample", "unknown: the version has no training run")]
    m, start = run.data.metrics, run.data.params.get("validation_start")
    if {"roc_auc", "accuracy", "baseline_accuracy"} <= m.keys():
        rows.append(
            (
                "model out-of-sample (validation)",
                f"AUC {m['roc_auc']:.3f}, accuracy {m['accuracy']:.3f} "
                f"(majority {m['baseline_accuracy']:.3f})",
            )
        )
    if start is None:
        return [*rows, ("traded bars", "unknown against the model's training range")]
    validation_start = datetime.fromisoformat(start)
    verdict = (
        "out-of-sample: every traded bar is after the model's training rows"
        if traded_from >= validation_start
        else "IN-SAMPLE: the model trained on some of the traded bars, so this P&L flatters it"
    )
    return [
        *rows,
        (
            "traded bars",
            f"from {traded_from:%Y-%m-%d}; validation from {validation_start:%Y-%m-%d}: {verdict}",
        ),
    ]
