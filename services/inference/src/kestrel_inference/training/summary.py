"""What `kestrel train` prints: where the model went, and its metrics next to the naive baseline."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from kestrel_inference.training.job import TrainingResult

_COMPARED = (
    ("accuracy", "baseline_accuracy"),
    ("log_loss", "baseline_log_loss"),
    ("roc_auc", "baseline_roc_auc"),
)
_MODEL_ONLY = ("precision_up", "recall_up", "base_rate_up")


def summary_table(result: TrainingResult) -> Group:
    reg = result.registered
    about = Table(title=f"{reg.model_name} v{reg.version} @{reg.alias}", show_header=False)
    about.add_column("item", no_wrap=True)
    about.add_column("value")
    about.add_row("run id", reg.run_id)
    about.add_row("model", f"{reg.model_uri} (version {reg.version})")
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
    return Group(about, metrics)
