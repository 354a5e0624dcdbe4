"""Tests that would fail on leakage, on the S&P 500 and NASDAQ daily samples through the real feature
catalogue, labels and purged walk-forward folds:

- shuffled labels leave nothing to learn: out-of-sample AUC 0.50 +- 0.02;
- a planted signal is found: AUC >= 0.9 (the folds keep rows and labels aligned);
- perturbing every bar from a fold's test start on changes no training row of that fold, feature or
  label; without the embargo it would (the control).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from kestrel_featurelib import default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.training.classifiers import new_classifier
from kestrel_inference.training.cross_validation import cross_validate
from kestrel_inference.training.dataset import Dataset, build_dataset
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.training.split import trainable_before
from kestrel_inference.training.walk_forward import Fold, walk_forward_folds

SPEC = LabelSpec(horizon=5, cost_bps=10)
FAST_TREES = {"n_estimators": 60, "learning_rate": 0.05}


def _bars() -> dict[str, pd.DataFrame]:
    return {"SP500": arch_daily_bars("sp500"), "NASDAQ": arch_daily_bars("nasdaq")}


def _dataset(bars: dict[str, pd.DataFrame]) -> Dataset:
    return build_dataset(bars, bars["SP500"][["ts", "close"]], default_feature_set("SP500"), SPEC)


@cache
def _sample() -> tuple[Dataset, tuple[Fold, ...]]:
    dataset = _dataset(_bars())
    folds = walk_forward_folds(
        dataset.rows, dataset.bar_ts, folds=5, embargo=SPEC.horizon, horizon=SPEC.horizon
    )
    return dataset, tuple(folds)


@pytest.mark.parametrize("kind", ["logreg", "lightgbm"])
def test_shuffled_labels_give_an_out_of_sample_auc_of_one_half(kind: str) -> None:
    dataset, folds = _sample()
    shuffled = np.random.default_rng(7).permutation(dataset.rows["label"].to_numpy(dtype=np.int64))
    params = FAST_TREES if kind == "lightgbm" else {}
    cv = cross_validate(
        lambda: new_classifier(kind, params), dataset.rows, dataset.feature_names, folds, labels=shuffled
    )
    assert abs(cv.mean["roc_auc"] - 0.5) <= 0.02, [f.metrics["roc_auc"] for f in cv.folds]


def test_a_planted_signal_is_found_out_of_sample() -> None:
    dataset, folds = _sample()
    rows = dataset.rows.copy()
    noise = np.random.default_rng(3).normal(0.0, 0.4, len(rows))
    rows["planted"] = rows["label"].to_numpy(dtype=np.float64) + noise
    names = (*dataset.feature_names, "planted")
    cv = cross_validate(lambda: new_classifier("lightgbm", FAST_TREES), rows, names, folds)
    assert cv.mean["roc_auc"] >= 0.9
    assert all(f.metrics["roc_auc"] >= 0.85 for f in cv.folds)
    assert cv.mean["log_loss"] < cv.mean["baseline_log_loss"] and cv.mean["brier"] < cv.mean["baseline_brier"]


def _training_rows(dataset: Dataset, test_start: int, embargo: int) -> pd.DataFrame:
    rows = dataset.rows[trainable_before(dataset.rows, dataset.bar_ts, test_start, embargo)]
    return rows.set_index(["symbol", "ts"]).loc[:, [*dataset.feature_names, "label"]].sort_index()


def _perturbed_from(test_start: int) -> Dataset:
    rng = np.random.default_rng(11)
    out = {}
    for symbol, bars in _bars().items():
        frame = bars.copy()
        later = frame["ts"] >= test_start
        factor = np.exp(rng.normal(0.0, 0.03, int(later.sum())))  # every later bar moves
        for column in ("open", "high", "low", "close"):
            frame.loc[later, column] = frame.loc[later, column].to_numpy() * factor
        out[symbol] = frame
    return _dataset(out)


def test_bars_from_a_folds_test_start_on_never_change_its_training_rows() -> None:
    dataset, folds = _sample()
    test_start = folds[2].test_start
    perturbed = _perturbed_from(test_start)
    original = _training_rows(dataset, test_start, SPEC.horizon)
    assert len(original) > 1000
    pd.testing.assert_frame_equal(_training_rows(perturbed, test_start, SPEC.horizon), original)
    # The control: without the embargo, labels of the last training rows read the perturbed bars.
    unpurged = _training_rows(dataset, test_start, 0)
    changed = _training_rows(perturbed, test_start, 0)
    assert not unpurged.equals(changed), "the perturbation did not reach the label horizon"
