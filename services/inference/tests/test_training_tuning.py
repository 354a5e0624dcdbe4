"""Optuna over a kind's space on the walk-forward folds: defaults first, seeded, pruned from the folds."""

from __future__ import annotations

from functools import cache

import optuna
import pytest

from kestrel_featurelib import default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.training.classifiers import new_classifier
from kestrel_inference.training.cross_validation import cross_validate
from kestrel_inference.training.dataset import Dataset, build_dataset
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.training.tuning import SPACES, tune
from kestrel_inference.training.walk_forward import Fold, walk_forward_folds


@cache
def _sample() -> tuple[Dataset, tuple[Fold, ...]]:
    bars = {"SP500": arch_daily_bars("sp500"), "NASDAQ": arch_daily_bars("nasdaq")}
    dataset = build_dataset(
        bars, bars["SP500"][["ts", "close"]], default_feature_set("SP500"), LabelSpec(5, 10)
    )
    return dataset, tuple(walk_forward_folds(dataset.rows, dataset.bar_ts, folds=4, embargo=5, horizon=5))


def test_tuning_starts_from_the_defaults_stays_in_the_space_and_prunes_from_the_folds() -> None:
    dataset, folds = _sample()
    tuned = tune("logreg", dataset.rows, dataset.feature_names, folds, trials=10)
    defaults = cross_validate(lambda: new_classifier("logreg"), dataset.rows, dataset.feature_names, folds)
    assert tuned.default_log_loss == pytest.approx(defaults.mean["log_loss"], abs=1e-12)
    assert tuned.best_log_loss <= tuned.default_log_loss
    _, low, high, _ = SPACES["logreg"]["c"]
    assert low <= tuned.best_params["c"] <= high
    assert tuned.trials == 10 and tuned.pruned >= 1
    for trial in tuned.study.trials:  # each fold's loss was reported, in fold order, until a prune
        steps = sorted(trial.intermediate_values)
        assert steps == list(range(1, len(steps) + 1))
        if trial.state is optuna.trial.TrialState.COMPLETE:
            assert len(steps) == len(folds)
    again = tune("logreg", dataset.rows, dataset.feature_names, folds, trials=10)
    assert again.best_params == tuned.best_params, "a seeded study repeats itself"


def test_what_cannot_be_tuned_is_refused_with_the_reason() -> None:
    dataset, folds = _sample()
    with pytest.raises(ValueError, match="ensemble has no search space"):
        tune("ensemble", dataset.rows, dataset.feature_names, folds, trials=3)
    with pytest.raises(ValueError, match="at least 1 trial"):
        tune("logreg", dataset.rows, dataset.feature_names, folds, trials=0)
