"""The validation evaluation: numbers a dashboard can draw, checked by hand, and their pictures."""

from __future__ import annotations

import numpy as np

from kestrel_inference.training.evaluation import evaluate_validation


def test_confusion_roc_calibration_and_importances_are_the_hand_worked_ones() -> None:
    labels = np.array([0, 0, 1, 1, 1, 0], dtype=np.int64)
    p_up = np.array([0.2, 0.6, 0.7, 0.4, 0.9, 0.1])
    result = evaluate_validation(labels, p_up, {"a": 3.0, "b": 10.0, "c": 0.0})
    try:
        numbers = result.numbers
        # rows: actual down, up; columns: predicted down, up (threshold 0.5).
        assert numbers["confusion_matrix"]["rows_true_cols_predicted"] == [[2, 1], [1, 2]]
        roc = numbers["roc"]
        assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0.0, 0.0, 1.0, 1.0)
        # 9 (up, down) pairs, 8 ranked right: 0.4 < 0.6 is the one miss.
        assert abs(roc["auc"] - 8 / 9) < 1e-12
        calibration = numbers["calibration"]
        assert len(calibration["mean_predicted"]) == len(calibration["fraction_up"]) >= 2
        assert all(0 <= f <= 1 for f in calibration["fraction_up"])
        assert list(numbers["feature_importance"]) == ["b", "a", "c"]
        assert numbers["rows"] == 6
        assert set(result.figures) == {
            "confusion_matrix.png",
            "roc.png",
            "precision_recall.png",
            "calibration.png",
            "feature_importance.png",
        }
    finally:
        result.close()
