"""The classifier (LightGBM, fixed seed, small) and its validation metrics next to a naive baseline.

Validation data is never used for fitting or early stopping: its metrics are out-of-sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss, precision_score, recall_score, roc_auc_score  # type: ignore[import-untyped]


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


def evaluate(
    model: lgb.LGBMClassifier, features: pd.DataFrame, labels: pd.Series, train_labels: pd.Series
) -> dict[str, float]:
    """Validation metrics of the model (threshold 0.5) and of 'always the training majority class'."""
    y = labels.to_numpy(dtype=np.int64)
    p_up = np.asarray(model.predict_proba(features))[:, 1]
    predicted = (p_up > 0.5).astype(np.int64)
    train_up_rate = float(train_labels.mean())
    majority = 1 if train_up_rate >= 0.5 else 0
    constant = np.full(len(y), train_up_rate)
    two_classes = len(np.unique(y)) == 2
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "log_loss": float(log_loss(y, p_up, labels=[0, 1])),
        "roc_auc": float(roc_auc_score(y, p_up)) if two_classes else float("nan"),
        "precision_up": float(precision_score(y, predicted, pos_label=1, zero_division=0)),
        "recall_up": float(recall_score(y, predicted, pos_label=1, zero_division=0)),
        "base_rate_up": float(y.mean()),
        "train_base_rate_up": train_up_rate,
        "baseline_accuracy": float(np.mean(y == majority)),
        # The baseline's probability is the training up-rate for every row (its best constant guess).
        "baseline_log_loss": float(log_loss(y, constant, labels=[0, 1])),
        "baseline_roc_auc": 0.5,
    }
