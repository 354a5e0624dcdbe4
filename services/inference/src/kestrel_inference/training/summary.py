"""The table `kestrel train` prints: where the model went, and its metrics next to the baseline."""

from __future__ import annotations

from rich.table import Table

from kestrel_inference.training.job import TrainingResult

_COMPARED = (
    ("accuracy", "baseline_accuracy"),
    ("log_loss", "baseline_log_loss"),
    ("roc_auc", "baseline_roc_auc"),
)
_MODEL_ONLY = ("precision_up", "recall_up", "base_rate_up")


def summary_table(result: TrainingResult) -> Table:
    reg = result.registered
    table = Table(title=f"{reg.model_name} v{reg.version} @{reg.alias}", show_lines=False)
    table.add_column("item")
    table.add_column("model", justify="right")
    table.add_column("baseline (majority class)", justify="right")
    table.add_row("run id", reg.run_id, "")
    table.add_row("model uri", reg.model_uri, "")
    table.add_row("feature set", result.feature_set_version, "")
    for symbol, span in result.data_range.items():
        source = result.sources.get(symbol, "?")
        table.add_row(
            f"data {symbol}", f"{span['first_ts']} .. {span['last_ts']}", f"{span['rows']} rows, {source}"
        )
    table.add_row("rows train / validation", f"{result.train_rows} / {result.validation_rows}", "")
    for metric, baseline in _COMPARED:
        table.add_row(metric, f"{result.metrics[metric]:.4f}", f"{result.metrics[baseline]:.4f}")
    for metric in _MODEL_ONLY:
        table.add_row(metric, f"{result.metrics[metric]:.4f}", "")
    return table
