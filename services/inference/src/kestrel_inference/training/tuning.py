"""Optuna per model kind over its search space, scored by the walk-forward folds.

The objective is the mean out-of-sample log loss over the folds (lower is better; it rewards
calibrated probabilities, which the signal thresholds read). Each fold's loss is reported as the
trial's intermediate value, so the median pruner stops a trial whose early folds are already worse
than the median of the trials before it. The first trial is the kind's defaults, so the best found
is never worse than them on these folds. TPE is seeded: the same data gives the same study.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
import pandas as pd

from kestrel_inference.training.classifiers import new_classifier
from kestrel_inference.training.cross_validation import FoldResult, cross_validate
from kestrel_inference.training.walk_forward import Fold

# name -> (kind of distribution, low, high, default); "log" floats sample on a log scale.
Space = Mapping[str, tuple[str, float, float, float]]
SPACES: Mapping[str, Space] = {
    "logreg": {"c": ("log", 1e-3, 10.0, 1.0)},
    "lightgbm": {
        "num_leaves": ("int", 7, 63, 15),
        "learning_rate": ("log", 0.01, 0.2, 0.03),
        "n_estimators": ("int", 50, 400, 200),
        "min_child_samples": ("int", 20, 300, 100),
        "colsample_bytree": ("float", 0.5, 1.0, 0.8),
    },
    "xgboost": {
        "max_depth": ("int", 2, 8, 4),
        "learning_rate": ("log", 0.01, 0.2, 0.05),
        "n_estimators": ("int", 50, 400, 200),
        "min_child_weight": ("float", 1.0, 20.0, 5.0),
        "subsample": ("float", 0.5, 1.0, 0.8),
    },
    # The window stays fixed: it decides the input columns, which every trial must share.
    "lstm": {
        "hidden": ("int", 8, 64, 16),
        "learning_rate": ("log", 3e-4, 1e-2, 1e-3),
        "epochs": ("int", 2, 16, 6),
        "dropout": ("float", 0.0, 0.5, 0.3),
    },
}


@dataclass(frozen=True, slots=True)
class Tuned:
    kind: str
    best_params: dict[str, Any]
    best_log_loss: float
    default_log_loss: float
    trials: int
    pruned: int
    study: optuna.Study


def _suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (how, low, high, _) in space.items():
        if how == "int":
            out[name] = trial.suggest_int(name, int(low), int(high))
        else:
            out[name] = trial.suggest_float(name, low, high, log=how == "log")
    return out


def tune(
    kind: str,
    rows: pd.DataFrame,
    feature_names: Sequence[str],
    folds: Sequence[Fold],
    *,
    trials: int,
    seed: int = 42,
    report: Callable[[str], None] = lambda _line: None,
) -> Tuned:
    space = SPACES.get(kind)
    if space is None:
        raise ValueError(f"{kind} has no search space to tune (tunable: {', '.join(SPACES)})")
    if trials < 1:
        raise ValueError(f"tuning needs at least 1 trial, got {trials}")

    def objective(trial: optuna.Trial) -> float:
        params = _suggest(trial, space)

        def after(result: FoldResult) -> None:
            trial.report(result.metrics["log_loss"], step=result.fold.number)
            if trial.should_prune():
                raise optuna.TrialPruned

        cv = cross_validate(
            lambda: new_classifier(kind, params), rows, feature_names, folds, after_fold=after
        )
        return cv.mean["log_loss"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        study_name=f"kestrel-{kind}",
    )
    study.enqueue_trial({name: default for name, (_, _, _, default) in space.items()})
    study.optimize(objective, n_trials=trials)
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    pruned = len(study.get_trials(states=(optuna.trial.TrialState.PRUNED,)))
    report(
        f"tuned {kind}: {len(done)} trials completed, {pruned} pruned, best log loss {study.best_value:.4f}"
    )
    default = study.trials[0].value
    return Tuned(
        kind=kind,
        best_params=dict(study.best_params),
        best_log_loss=float(study.best_value),
        default_log_loss=float(default) if default is not None else math.nan,
        trials=len(study.trials),
        pruned=pruned,
        study=study,
    )
