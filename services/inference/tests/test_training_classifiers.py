"""Every model kind behind the one interface: fitted on a fold, probabilities per row, seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kestrel_inference.training.classifiers import KINDS, LogisticBaseline, new_classifier


def _rows(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    x.loc[rng.random(n) < 0.05, "c"] = np.nan  # features may be missing (cross-asset gaps)
    y = (x["a"] + 0.5 * rng.normal(size=n) > 0).astype(np.int64).to_numpy()
    return x, y


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_fits_and_gives_probabilities_that_rank_the_signal(kind: str) -> None:
    x, y = _rows(1500, seed=1)
    xt, yt = _rows(500, seed=2)
    model = new_classifier(kind)
    model.fit(x, y)
    proba = model.predict_proba(xt)
    assert proba.shape == (500, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    auc_like = np.mean(proba[yt == 1, 1][:, None] > proba[yt == 0, 1][None, :])
    assert auc_like > 0.8, f"{kind} does not learn a plain linear signal"
    again = new_classifier(kind)
    again.fit(x, y)
    assert np.array_equal(again.predict_proba(xt), proba), "same rows and seed must give the same model"
    assert model.kind == kind and model.params()


def test_the_baseline_fits_its_scaler_on_the_training_rows_only() -> None:
    x, y = _rows(800, seed=3)
    model = LogisticBaseline()
    model.fit(x.iloc[:400], y[:400])
    scaler = model._pipeline.named_steps["scale"]
    imputed = x.iloc[:400].fillna(x.iloc[:400].median())
    assert np.allclose(scaler.mean_, imputed.mean().to_numpy())
    assert not np.allclose(scaler.mean_, x.fillna(x.median()).mean().to_numpy())


def test_unknown_kinds_and_parameters_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown model kind 'lstm2'.*logreg"):
        new_classifier("lstm2")
    with pytest.raises(ValueError, match="bad parameters for xgboost"):
        new_classifier("xgboost", {"depth": 3})
    with pytest.raises(ValueError, match="bad parameters for lightgbm"):
        new_classifier("lightgbm", {"leaves": 3})
    assert new_classifier("lightgbm", {"num_leaves": 7}).params()["num_leaves"] == 7
