"""The classifier: deterministic under its seed, and metrics next to an honest naive baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kestrel_inference.training.model import ModelParams, evaluate, fit


def _frame(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = pd.Series((x["signal"] + rng.normal(scale=0.5, size=n) > 0.2).astype(np.int64))
    return x, y


def test_same_seed_same_model() -> None:
    x, y = _frame(2000, 1)
    params = ModelParams(n_estimators=50)
    first = fit(x, y, params).predict_proba(x)
    second = fit(x, y, params).predict_proba(x)
    np.testing.assert_array_equal(first, second)


def test_metrics_beat_the_majority_baseline_on_a_learnable_signal() -> None:
    x, y = _frame(3000, 2)
    xv, yv = _frame(1000, 3)
    metrics = evaluate(fit(x, y, ModelParams(n_estimators=50)), xv, yv, y)
    majority = 1 if y.mean() >= 0.5 else 0
    assert metrics["baseline_accuracy"] == pytest.approx(float((yv == majority).mean()))
    assert metrics["base_rate_up"] == pytest.approx(float(yv.mean()))
    assert metrics["train_base_rate_up"] == pytest.approx(float(y.mean()))
    assert metrics["accuracy"] > metrics["baseline_accuracy"] + 0.1
    assert metrics["log_loss"] < metrics["baseline_log_loss"]
    assert metrics["roc_auc"] > 0.8
    assert 0.0 < metrics["precision_up"] <= 1.0 and 0.0 < metrics["recall_up"] <= 1.0


def test_noise_is_not_learned_into_an_edge() -> None:
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"noise": rng.normal(size=3000)})
    y = pd.Series(rng.integers(0, 2, size=3000))
    xv = pd.DataFrame({"noise": rng.normal(size=1000)})
    yv = pd.Series(rng.integers(0, 2, size=1000))
    metrics = evaluate(fit(x, y, ModelParams(n_estimators=50)), xv, yv, y)
    assert abs(metrics["roc_auc"] - 0.5) < 0.07
