"""The classifier (LightGBM, fixed seed, small) and its validation metrics next to a naive baseline.

Validation data is never used for fitting or early stopping: its metrics are out-of-sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import (  # type: ignore[import-untyped]
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)


@dataclass(frozen=True, slots=True)
class ModelParams:
    n_estimators: int = 200
    learning_rate: float = 0.03
    num_leaves: int = 15
    max_depth: int = 5
    min_child_samples: int = 100
    subsample: float = 0.8
    subsample_freq: int = 1
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    seed: int = 42
    n_jobs: int = 2

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def fit(features: pd.DataFrame, labels: pd.Series, params: ModelParams) -> lgb.LGBMClassifier:
    model = lgb.LGBMClassifier(
        objective="binary",
        n_estimators=params.n_estimators,
        learning_rate=params.learning_rate,
        num_leaves=params.num_leaves,
        max_depth=params.max_depth,
        min_child_samples=params.min_child_samples,
        subsample=params.subsample,
        subsample_freq=params.subsample_freq,
        colsample_bytree=params.colsample_bytree,
        reg_lambda=params.reg_lambda,
        random_state=params.seed,
        n_jobs=params.n_jobs,
        deterministic=True,  # same data + seed -> same trees, whatever the thread timing
        force_row_wise=True,
        verbose=-1,
    )
    model.fit(features, labels.to_numpy(dtype=np.int64))
    return model


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


def validation_metrics(
    labels: npt.NDArray[np.int64], p_up: npt.NDArray[np.float64], train_labels: npt.NDArray[np.int64]
) -> dict[str, float]:
    """``classification_metrics`` plus the up class's precision and recall and the training up-rate."""
    predicted = (p_up > 0.5).astype(np.int64)
    return {
        **classification_metrics(labels, p_up, train_labels),
        "precision_up": float(precision_score(labels, predicted, pos_label=1, zero_division=0)),
        "recall_up": float(recall_score(labels, predicted, pos_label=1, zero_division=0)),
        "train_base_rate_up": float(np.mean(train_labels)),
    }


def evaluate(
    model: lgb.LGBMClassifier, features: pd.DataFrame, labels: pd.Series, train_labels: pd.Series
) -> dict[str, float]:
    """Validation metrics of the model beside 'always the training majority class'."""
    p_up = np.asarray(model.predict_proba(features), dtype=np.float64)[:, 1]
    return validation_metrics(labels.to_numpy(dtype=np.int64), p_up, train_labels.to_numpy(dtype=np.int64))
