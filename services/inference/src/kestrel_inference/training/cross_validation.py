"""Out-of-sample metrics of a model kind over walk-forward folds, each fold fitted from scratch on
its own training rows and scored on its test rows only, beside the majority baseline."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import (  # type: ignore[import-untyped]
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    roc_auc_score,
)

from kestrel_inference.training.classifiers import Classifier
from kestrel_inference.training.walk_forward import Fold

METRICS = ("roc_auc", "log_loss", "accuracy", "f1_up", "brier")


def classification_metrics(
    labels: npt.NDArray[np.int64], p_up: npt.NDArray[np.float64], train_labels: npt.NDArray[np.int64]
) -> dict[str, float]:
    """The model's metrics (threshold 0.5) and the baseline's: the training majority class for
    accuracy and F1, the training up-rate as every row's probability for log loss and Brier."""
    predicted = (p_up > 0.5).astype(np.int64)
    up_rate = float(np.mean(train_labels))
    constant = np.full(len(labels), up_rate)
    majority = np.full(len(labels), 1 if up_rate >= 0.5 else 0)
    two_classes = len(np.unique(labels)) == 2
    return {
        "roc_auc": float(roc_auc_score(labels, p_up)) if two_classes else math.nan,
        "log_loss": float(log_loss(labels, p_up, labels=[0, 1])),
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1_up": float(f1_score(labels, predicted, pos_label=1, zero_division=0)),
        "brier": float(brier_score_loss(labels, p_up)),
        "baseline_roc_auc": 0.5,
        "baseline_log_loss": float(log_loss(labels, constant, labels=[0, 1])),
        "baseline_accuracy": float(accuracy_score(labels, majority)),
        "baseline_f1_up": float(f1_score(labels, majority, pos_label=1, zero_division=0)),
        "baseline_brier": float(brier_score_loss(labels, constant)),
        "base_rate_up": float(np.mean(labels)),
    }


@dataclass(frozen=True, slots=True)
class FoldResult:
    fold: Fold
    train_rows: int
    test_rows: int
    metrics: dict[str, float]
    p_up: npt.NDArray[np.float64]  # the test rows' out-of-sample P(up), in row order
    # symbol, ts, p_up of every scoring row in the test block (labelled or not), when asked for
    scored: pd.DataFrame | None = None


@dataclass(frozen=True, slots=True)
class CrossValidation:
    kind: str
    folds: tuple[FoldResult, ...]

    @property
    def mean(self) -> dict[str, float]:
        names = self.folds[0].metrics
        return {k: float(np.nanmean([f.metrics[k] for f in self.folds])) for k in names}


def cross_validate(
    make: Callable[[], Classifier],
    rows: pd.DataFrame,
    feature_names: Sequence[str],
    folds: Sequence[Fold],
    *,
    labels: npt.NDArray[np.int64] | None = None,
    min_train_rows: int = 50,
    after_fold: Callable[[FoldResult], None] | None = None,
    score: pd.DataFrame | None = None,
) -> CrossValidation:
    """Fit a fresh ``make()`` per fold; ``labels`` overrides ``rows["label"]`` (the leakage tests
    shuffle them); ``after_fold`` hears each fold's result as it comes (tuning prunes from it);
    ``score`` (rows with symbol, ts and the features) is scored over each fold's test block."""
    y = rows["label"].to_numpy(dtype=np.int64) if labels is None else labels
    features = rows.loc[:, list(feature_names)]
    results = []
    kind = ""
    for fold in folds:
        train_y = y[fold.train]
        if len(train_y) < min_train_rows or len(np.unique(train_y)) < 2 or not fold.test.any():
            raise ValueError(
                f"fold {fold.number} has {len(train_y)} training rows ({len(np.unique(train_y))} classes) "
                f"and {int(fold.test.sum())} test rows: too few to fit and score"
            )
        model = make()
        kind = model.kind
        model.fit(features[fold.train], train_y)
        p_up = model.predict_proba(features[fold.test])[:, 1]
        metrics = classification_metrics(y[fold.test], p_up, train_y)
        scored = None
        if score is not None:  # every bar of the test block, as the live service would score it
            ts = score["ts"].to_numpy(dtype=np.int64)
            block = score[(ts >= fold.test_start) & (ts < fold.test_end)]
            scored = block[["symbol", "ts"]].assign(
                p_up=model.predict_proba(block.loc[:, list(feature_names)])[:, 1]
            )
        results.append(FoldResult(fold, len(train_y), int(fold.test.sum()), metrics, p_up, scored))
        if after_fold is not None:
            after_fold(results[-1])
    return CrossValidation(kind, tuple(results))
