"""What `kestrel train` prints: where the model went, and its metrics next to the naive baseline."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from kestrel_inference.training.cv_run import CvSummary
from kestrel_inference.training.job import TrainingResult

_COMPARED = (
    ("accuracy", "baseline_accuracy"),
    ("log_loss", "baseline_log_loss"),
    ("roc_auc", "baseline_roc_auc"),
)
_MODEL_ONLY = ("precision_up", "recall_up", "base_rate_up")
_CV_METRICS = ("roc_auc", "log_loss", "brier", "accuracy", "f1_up")


def summary_table(result: TrainingResult) -> Group:
    reg = result.registered
    about = Table(title=f"{reg.model_name} v{reg.version} @{reg.alias}", show_header=False)
    about.add_column("item", no_wrap=True)
    about.add_column("value")
    about.add_row("run id", reg.run_id)
    about.add_row("model", f"{reg.model_uri} (version {reg.version}, {result.kind})")
    if result.gate is not None:
        verdict = "[green]promoted[/green]" if result.gate.promoted else "[yellow]refused[/yellow]"
        about.add_row("gate", f"{verdict}: " + "; ".join(result.gate.reasons))
    else:
        about.add_row("gate", "off (--no-gate): the alias was moved without a comparison")
    about.add_row("feature set version", result.feature_set_version)
    for symbol, span in result.data_range.items():
        source = result.sources.get(symbol, "?")
        about.add_row(
            f"data {symbol}", f"{span['first_ts']} .. {span['last_ts']}, {span['rows']} rows ({source})"
        )
    about.add_row("rows train / validation", f"{result.train_rows} / {result.validation_rows}")

    metrics = Table(title="validation metrics")
    metrics.add_column("metric", no_wrap=True)
    metrics.add_column("model", justify="right")
    metrics.add_column("baseline: always majority", justify="right")
    for metric, baseline in _COMPARED:
        metrics.add_row(metric, f"{result.metrics[metric]:.4f}", f"{result.metrics[baseline]:.4f}")
    for metric in _MODEL_ONLY:
        metrics.add_row(metric, f"{result.metrics[metric]:.4f}", "")
    if result.cv is None:
        return Group(about, metrics)
    parts = [about, metrics, _cv_table(result.cv)]
    if result.cv.economic:
        parts.append(_economic_table(result.cv))
    if result.cv.tuned:
        parts.append(_tuning_table(result.cv))
    return Group(*parts)


def _tuning_table(cv: CvSummary) -> Table:
    table = Table(title="Optuna (TPE, median pruning on the folds): mean out-of-sample log loss")
    for column in ("model", "defaults", "best", "trials (pruned)", "best parameters"):
        table.add_column(column)
    for t in cv.tuned:
        best = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.best_params.items()
        )
        table.add_row(
            t.kind, f"{t.default_log_loss:.4f}", f"{t.best_log_loss:.4f}", f"{t.trials} ({t.pruned})", best
        )
    return table


def _economic_table(cv: CvSummary) -> Table:
    table = Table(title="out-of-sample backtest of each kind's predictions (ml_threshold, with costs)")
    for column in ("model", "total return", "buy & hold", "Sharpe", "max drawdown", "trades", "fees"):
        table.add_column(column, justify="right")
    for kind, f in cv.economic.items():
        table.add_row(
            kind,
            f"{f.get('total_return', float('nan')):.2%}",
            f"{f.get('benchmark_return', float('nan')):.2%}",
            f"{f.get('sharpe_ratio', float('nan')):.2f}",
            f"{f.get('max_drawdown', float('nan')):.2%}",
            f"{f.get('trade_count', 0):.0f}",
            f"{f.get('fees', 0):.2f}",
        )
    return table


def _cv_table(cv: CvSummary) -> Table:
    table = Table(title=f"out-of-sample, {cv.scheme} (mean of the folds; baseline in brackets)")
    table.add_column("model", no_wrap=True)
    for name in _CV_METRICS:
        table.add_column(name, justify="right")
    for result in cv.results:
        mean = result.mean
        table.add_row(result.kind, *(f"{mean[m]:.4f} ({mean['baseline_' + m]:.4f})" for m in _CV_METRICS))
    return table
