"""Every model kind on the S&P 500 + NASDAQ daily samples: training time, and the cost of one
prediction in the inference service's code path.

Per kind: fit on the time split's training rows (timed), register in the real MLflow under
``kestrel-bench-<kind>``, load it as the service does (``MlflowModelSource.load``: the flavour's own
predict once it agreed with the pyfunc wrapper), then per row of the last bars:
- ``model call``: the served ``predict`` on the one-row frame (target for LightGBM: p99 <= 100 us);
- ``score``: ``kestrel_inference.scoring.score``, what the consumer runs per vector (check and order
  the features, the window's lags for the LSTM, predict, choose the action).

    uv run python -m bench.bench_models [--rows 2000] [--kinds logreg,lightgbm,...]
Figures are printed and written to bench/results/models.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from bench.trading_loop_model import timed
from bench.trading_loop_rig import percentiles
from rich.console import Console
from rich.table import Table

from kestrel_featurelib import default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.domain import Thresholds, feature_row, predict_up
from kestrel_inference.model_registry import MlflowModelSource
from kestrel_inference.scoring import score
from kestrel_inference.training.classifiers import KINDS, new_classifier
from kestrel_inference.training.dataset import Dataset, build_dataset
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.training.registry import log_and_register
from kestrel_inference.training.split import time_split

RESULTS = Path(__file__).parent / "results" / "models.json"


def _dataset() -> Dataset:
    bars = {"SP500": arch_daily_bars("sp500"), "NASDAQ": arch_daily_bars("nasdaq")}
    return build_dataset(bars, bars["SP500"][["ts", "close"]], default_feature_set("SP500"), LabelSpec(5, 10))


def bench_kind(kind: str, dataset: Dataset, uri: str, rows: int) -> dict[str, Any]:
    model = new_classifier(kind)
    inputs = dataset.windowed(model.window)
    split = time_split(inputs.rows, inputs.bar_ts, validation_fraction=0.2, embargo=5, horizon=5)
    columns = list(inputs.feature_names)
    started = time.perf_counter()
    model.fit(split.train[columns], split.train["label"].to_numpy(dtype=np.int64))
    train_s = time.perf_counter() - started
    name = f"kestrel-bench-{kind}"
    registered = log_and_register(
        tracking_uri=uri,
        experiment="kestrel-bench-models",
        model=model,
        inputs=split.validation[columns],
        feature_names=list(dataset.feature_names),
        params=model.params(),
        metrics={"train_s": train_s},
        tags={"feature_set_version": default_feature_set("SP500").version, "bench": uuid.uuid4().hex[:8]},
        artifacts={},
        model_name=name,
    )
    served = MlflowModelSource(uri).load(name, registered.version)
    assert dataset.scoring_rows is not None
    every = dataset.scoring_rows
    names = list(dataset.feature_names)
    cases = []
    for at in range(len(every) - rows, len(every)):
        row = every.iloc[at]
        earlier = every.iloc[max(at - 4 * served.window, 0) : at]
        earlier = earlier[earlier["symbol"] == row["symbol"]].tail(served.window - 1)
        history = [dict(zip(names, r, strict=True)) for r in earlier[names].to_numpy()]
        cases.append(({n: float(row[n]) for n in names}, history))
    fsv, thresholds = served.feature_set_version, Thresholds(0.55, 0.45)
    frames = [feature_row(served, values, fsv, history) for values, history in cases]
    return {
        "kind": kind,
        "window": served.window,
        "train_rows": len(split.train),
        "train_s": train_s,
        "model_call": percentiles(timed(lambda frame: predict_up(served, frame), frames)),
        "score": percentiles(timed(lambda case: score(served, case[0], fsv, thresholds, case[1]), cases)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2000, help="predictions timed per kind")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated model kinds")
    args = parser.parse_args()
    uri = os.environ.get("KESTREL_MLFLOW_TRACKING_URI", "http://127.0.0.1:15000")
    console = Console()
    dataset = _dataset()
    figures = []
    for kind in (k.strip() for k in args.kinds.split(",") if k.strip()):
        console.print(f"{kind}: training and registering ...")
        figures.append(bench_kind(kind, dataset, uri, args.rows))
    table = Table(title=f"model kinds: training on the samples, one prediction ({args.rows} rows, µs)")
    columns = ("kind", "window", "train rows", "train s", "call p50", "call p99", "score p50", "score p99")
    for column in columns:
        table.add_column(column, justify="right")
    for f in figures:
        call, scored = f["model_call"], f["score"]
        table.add_row(
            f["kind"],
            str(f["window"]),
            str(f["train_rows"]),
            f"{f['train_s']:.2f}",
            *(f"{v * 1000:.0f}" for v in (call[0], call[1], scored[0], scored[1])),
        )
    console.print(table)
    lightgbm = next((f for f in figures if f["kind"] == "lightgbm"), None)
    if lightgbm is not None:
        p99_us = lightgbm["model_call"][1] * 1000
        verdict = "met" if p99_us <= 100 else "MISSED"
        console.print(f"LightGBM model call p99 {p99_us:.0f} µs (target <= 100 µs): {verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
