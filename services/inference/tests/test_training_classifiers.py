"""Every model kind behind the one interface: fitted on a fold, probabilities per row, seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from kestrel_inference.domain import window_columns
from kestrel_inference.training.classifiers import KINDS, AveragingEnsemble, LogisticBaseline, new_classifier
from kestrel_inference.training.dataset import window_frame


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
    one_bar = {"window": 1, "epochs": 20, "learning_rate": 5e-3}  # the frame holds one bar
    params = {"lstm": one_bar, "ensemble": {f"lstm.{k}": v for k, v in one_bar.items()}}.get(kind, {})
    model = new_classifier(kind, params)
    model.fit(x, y)
    proba = model.predict_proba(xt)
    assert proba.shape == (500, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    auc_like = np.mean(proba[yt == 1, 1][:, None] > proba[yt == 0, 1][None, :])
    assert auc_like > 0.8, f"{kind} does not learn a plain linear signal"
    again = new_classifier(kind, model.params())  # the logged parameters rebuild the same model
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
    with pytest.raises(ValueError, match="bad parameters for lstm"):
        new_classifier("lstm", {"window": 0})
    with pytest.raises(ValueError, match=r"bad parameters for ensemble.*<kind>.<name>"):
        new_classifier("ensemble", {"depth": 3})
    with pytest.raises(ValueError, match="bad parameters for xgboost"):
        new_classifier("xgboost", {"depth": 3})
    with pytest.raises(ValueError, match="bad parameters for lightgbm"):
        new_classifier("lightgbm", {"leaves": 3})
    assert new_classifier("lightgbm", {"num_leaves": 7}).params()["num_leaves"] == 7


def _sequences(n: int, seed: int, lag: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One series whose label is the sign of feature a ``lag`` bars ago: only a window sees it."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = (np.roll(a, lag) > 0).astype(np.int64)
    rows = pd.DataFrame({"symbol": "X", "a": a, "b": b})
    window = window_frame(rows, ("a", "b"), lag + 2)
    return window.iloc[lag:], y[lag:]


def test_the_lstm_reads_its_window_a_signal_in_the_past_is_found_only_with_one() -> None:
    x, y = _sequences(2000, seed=4, lag=3)
    xt, yt = _sequences(600, seed=5, lag=3)
    assert list(x.columns) == list(window_columns(("a", "b"), 5))
    model = new_classifier(
        "lstm", {"window": 5, "epochs": 30, "learning_rate": 1e-2, "dropout": 0.0, "weight_decay": 0.0}
    )
    model.fit(x, y)
    p_up = model.predict_proba(xt)[:, 1]
    assert roc_auc_score(yt, p_up) > 0.9
    blind = new_classifier("lstm", {"window": 1, "epochs": 15, "learning_rate": 5e-3})
    blind.fit(x[["a", "b"]], y)  # only the bar itself: the signal is not in it
    assert abs(roc_auc_score(yt, blind.predict_proba(xt[["a", "b"]])[:, 1]) - 0.5) < 0.08
    with pytest.raises(ValueError, match="window columns"):
        model.predict_proba(xt[["a", "b"]])


def test_the_lstm_fits_its_imputation_and_scaling_on_the_training_rows_only() -> None:
    x, y = _sequences(1000, seed=6, lag=1)
    shifted = x.copy()
    shifted.iloc[500:] += 100.0  # later rows far away: a scaler fitted on them would move
    model = new_classifier("lstm", {"window": 3, "epochs": 2})
    model.fit(shifted.iloc[:500], y[:500])
    fitted = model._mean  # type: ignore[attr-defined]
    assert np.allclose(fitted, x.iloc[:500][["a", "b"]].to_numpy().mean(axis=0), atol=0.1)


def test_the_ensemble_averages_every_kind_each_reading_its_own_window() -> None:
    x, y = _sequences(800, seed=7, lag=2)  # window 4 over features a, b
    model = new_classifier("ensemble", {"lstm.window": 4, "lstm.epochs": 2})
    assert isinstance(model, AveragingEnsemble)
    assert model.window == 4 and [m.kind for m in model.members] == ["logreg", "lightgbm", "xgboost", "lstm"]
    model.fit(x, y)
    logreg = model.members[0]
    assert isinstance(logreg, LogisticBaseline)
    assert logreg._pipeline.n_features_in_ == 2  # the bar's own features only
    proba = model.predict_proba(x)
    members = np.mean([m.predict_proba(model._inputs(m, x)) for m in model.members], axis=0)
    assert np.allclose(proba, members)
