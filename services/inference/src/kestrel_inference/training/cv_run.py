"""`kestrel train`'s walk-forward evaluation of each requested model kind, and what MLflow keeps of it:
the mean metrics (``cv_<kind>_<metric>``), every fold's (``cv_<kind>_fold_<metric>``, logged with
step = fold number) and ``cv.json`` with the scheme, the fold boundaries and all the numbers."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kestrel_inference.training.classifiers import KINDS, kind_window, new_classifier
from kestrel_inference.training.cross_validation import CrossValidation, cross_validate
from kestrel_inference.training.dataset import Dataset
from kestrel_inference.training.errors import TrainingError
from kestrel_inference.training.tuning import SPACES, Tuned, tune
from kestrel_inference.training.walk_forward import Fold, walk_forward_folds

# (symbol, ts, p_up) of every out-of-sample bar, the bars by symbol, the timeframe -> figures.
Economics = Callable[[pd.DataFrame, Mapping[str, pd.DataFrame], str], Mapping[str, float]]
SCHEME = "anchored walk-forward, {folds} folds, purged per symbol with an embargo of {embargo} bars"


@dataclass(frozen=True, slots=True)
class CvSummary:
    scheme: str
    results: tuple[CrossValidation, ...]
    tuned: tuple[Tuned, ...] = ()
    # kind -> the out-of-sample backtest of its predictions (total return, Sharpe, trades, fees, ...)
    economic: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    folds: tuple[Fold, ...] = ()  # the walk-forward folds every kind (and the gate) is scored on

    def result(self, kind: str) -> CrossValidation | None:
        return next((cv for cv in self.results if cv.kind == kind), None)

    def mean_metrics(self) -> dict[str, float]:
        means = {
            f"cv_{cv.kind}_{name}": value
            for cv in self.results
            for name, value in cv.mean.items()
            if not math.isnan(value)
        }
        for kind, figures in self.economic.items():
            means |= {f"cv_{kind}_oos_{k}": v for k, v in figures.items() if not math.isnan(v)}
        for t in self.tuned:
            means |= {
                f"tune_{t.kind}_best_log_loss": t.best_log_loss,
                f"tune_{t.kind}_default_log_loss": t.default_log_loss,
                f"tune_{t.kind}_trials": float(t.trials),
                f"tune_{t.kind}_pruned": float(t.pruned),
            }
        return means

    def tuned_params(self) -> dict[str, str]:
        return {f"tuned_{t.kind}_{k}": str(v) for t in self.tuned for k, v in t.best_params.items()}

    def best_params(self, kind: str) -> dict[str, Any]:
        return next((dict(t.best_params) for t in self.tuned if t.kind == kind), {})

    def fold_metrics(self) -> list[tuple[int, dict[str, float]]]:
        """(fold number, metrics) pairs for MLflow's step axis."""
        by_fold: dict[int, dict[str, float]] = {}
        for cv in self.results:
            for fold in cv.folds:
                row = by_fold.setdefault(fold.fold.number, {})
                row.update(
                    {f"cv_{cv.kind}_fold_{k}": v for k, v in fold.metrics.items() if not math.isnan(v)}
                )
        return sorted(by_fold.items())

    def artifact(self) -> dict[str, Any]:
        def iso(ts: int) -> str | None:
            return pd.Timestamp(ts, unit="ns", tz="UTC").isoformat() if ts < 2**62 else None

        return {
            "scheme": self.scheme,
            "economic_out_of_sample": {k: dict(v) for k, v in self.economic.items()},
            "models": {
                cv.kind: {
                    "mean": cv.mean,
                    "folds": [
                        {
                            "fold": f.fold.number,
                            "test_start": iso(f.fold.test_start),
                            "test_end": iso(f.fold.test_end),
                            "train_rows": f.train_rows,
                            "test_rows": f.test_rows,
                            "purged_rows": f.fold.purged_rows,
                            "metrics": f.metrics,
                        }
                        for f in cv.folds
                    ],
                }
                for cv in self.results
            },
        }


def parse_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown:
        raise ValueError(f"unknown model kind(s) {unknown or [text]}; kinds: {', '.join(KINDS)}")
    return kinds


@dataclass(frozen=True, slots=True)
class Scoring:
    """What scoring one configuration on the folds needs beside the kind and its parameters."""

    dataset: Dataset
    folds: tuple[Fold, ...]
    economics: Economics | None = None
    bars: Mapping[str, pd.DataFrame] | None = None
    timeframe: str = "1d"


def evaluate_kind(
    scoring: Scoring,
    kind: str,
    params: Mapping[str, Any],
    *,
    shuffle_seed: int | None = None,
) -> tuple[CrossValidation, dict[str, float]]:
    """One configuration's walk-forward results and, when ``economics`` is given, the out-of-sample
    backtest of its predictions. ``shuffle_seed`` permutes the labels (the leakage check)."""
    inputs = scoring.dataset.windowed(kind_window(kind, params))  # a sequence kind's lags beside
    labels = None
    if shuffle_seed is not None:
        rng = np.random.default_rng(shuffle_seed)
        labels = rng.permutation(inputs.rows["label"].to_numpy(dtype=np.int64))
    # Shuffled labels are a leakage check, not a strategy: no backtest of them.
    economics = scoring.economics if labels is None and scoring.bars is not None else None
    cv = cross_validate(
        functools.partial(new_classifier, kind, dict(params)),
        inputs.rows,
        inputs.feature_names,
        scoring.folds,
        labels=labels,
        score=inputs.scoring_rows if economics is not None else None,
    )
    if economics is None or scoring.bars is None:
        return cv, {}
    scored = pd.concat([f.scored for f in cv.folds if f.scored is not None], ignore_index=True)
    return cv, dict(economics(scored, scoring.bars, scoring.timeframe))


def run_cv(
    dataset: Dataset,
    kinds: Sequence[str],
    *,
    folds: int,
    embargo: int,
    horizon: int,
    report: Callable[[str], None],
    tune_trials: int = 0,
    economics: Economics | None = None,
    bars: Mapping[str, pd.DataFrame] | None = None,
    timeframe: str = "1d",
) -> CvSummary:
    """With ``tune_trials``, each tunable kind is tuned on the same folds first and cross-validated
    with its best parameters (the ensemble keeps its members' defaults)."""
    results, tuned, economic = [], [], {}
    try:
        made = tuple(
            walk_forward_folds(dataset.rows, dataset.bar_ts, folds=folds, embargo=embargo, horizon=horizon)
        )
        scoring = Scoring(dataset, made, economics, bars, timeframe)
        for kind in kinds:
            params: dict[str, Any] = {}
            if tune_trials and kind in SPACES:
                report(f"tuning {kind}: {tune_trials} Optuna trials over {folds} walk-forward folds")
                inputs = dataset.windowed(kind_window(kind))
                tuned.append(
                    tune(kind, inputs.rows, inputs.feature_names, made, trials=tune_trials, report=report)
                )
                params = dict(tuned[-1].best_params)
            report(f"cross-validating {kind} over {folds} walk-forward folds")
            cv, figures = evaluate_kind(scoring, kind, params)
            results.append(cv)
            if figures:
                report(f"backtested {kind}'s out-of-sample predictions with costs")
                economic[kind] = figures
    except ValueError as exc:
        raise TrainingError(f"cross-validation: {exc}") from exc
    return CvSummary(
        SCHEME.format(folds=folds, embargo=embargo), tuple(results), tuple(tuned), economic, made
    )
