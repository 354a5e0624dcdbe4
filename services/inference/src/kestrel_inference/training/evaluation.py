"""The served model's evaluation on its held-out validation rows, as numbers (``evaluation.json``,
for the dashboard to draw) and as pictures (PNG): confusion matrix, ROC and precision-recall curves,
calibration curve, and the features the trees lean on most."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # files only: no display, no GUI toolkit
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve  # type: ignore[import-untyped]
from sklearn.metrics import (  # type: ignore[import-untyped]
    auc,
    confusion_matrix,
    precision_recall_curve,
    roc_curve,
)

CALIBRATION_BINS = 10
TOP_FEATURES = 20


@dataclass(frozen=True)
class Evaluation:
    numbers: dict[str, Any]
    figures: dict[str, Figure]  # artifact file name -> figure

    def close(self) -> None:
        for figure in self.figures.values():
            plt.close(figure)


def evaluate_validation(
    labels: npt.NDArray[np.int64],
    p_up: npt.NDArray[np.float64],
    importances: Mapping[str, float],
    *,
    importance_label: str = "total gain",
) -> Evaluation:
    """``importances``: feature -> the model's importance (``importance_label`` says what it is)."""
    predicted = (p_up > 0.5).astype(np.int64)
    matrix = confusion_matrix(labels, predicted, labels=[0, 1])
    fpr, tpr, _ = roc_curve(labels, p_up)
    roc_auc = float(auc(fpr, tpr))
    precision, recall, _ = precision_recall_curve(labels, p_up)
    observed, expected = calibration_curve(labels, p_up, n_bins=CALIBRATION_BINS, strategy="quantile")
    top = sorted(importances.items(), key=lambda kv: kv[1], reverse=True)[:TOP_FEATURES]
    numbers = {
        "rows": len(labels),
        "confusion_matrix": {"labels": ["down", "up"], "rows_true_cols_predicted": matrix.tolist()},
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": roc_auc},
        "precision_recall": {"precision": precision.tolist(), "recall": recall.tolist()},
        "calibration": {"mean_predicted": expected.tolist(), "fraction_up": observed.tolist()},
        "feature_importance": dict(top),
        "feature_importance_measure": importance_label,
    }
    figures = {
        "confusion_matrix.png": _confusion(matrix),
        "roc.png": _curve(fpr, tpr, "false positive rate", "true positive rate", f"ROC (AUC {roc_auc:.3f})"),
        "precision_recall.png": _curve(
            recall, precision, "recall (up)", "precision (up)", "precision-recall"
        ),
        "calibration.png": _curve(expected, observed, "mean predicted P(up)", "fraction up", "calibration"),
        "feature_importance.png": _importance(top, importance_label),
    }
    return Evaluation(numbers, figures)


def _confusion(matrix: npt.NDArray[np.int64]) -> Figure:
    figure, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center")
    ax.set_xticks([0, 1], ["down", "up"])
    ax.set_yticks([0, 1], ["down", "up"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title("confusion matrix (threshold 0.5)")
    figure.tight_layout()
    return figure


def _curve(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], xlabel: str, ylabel: str, title: str
) -> Figure:
    figure, ax = plt.subplots(figsize=(5, 4))
    ax.plot(x, y, marker="." if len(x) <= CALIBRATION_BINS + 1 else None)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)  # chance / perfect calibration
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    figure.tight_layout()
    return figure


def _importance(top: list[tuple[str, float]], label: str) -> Figure:
    figure, ax = plt.subplots(figsize=(6, max(2.0, 0.3 * len(top))))
    names = [name for name, _ in reversed(top)]
    ax.barh(names, [value for _, value in reversed(top)])
    ax.set_xlabel(f"importance ({label})")
    ax.set_title(f"top {len(top)} features")
    figure.tight_layout()
    return figure
