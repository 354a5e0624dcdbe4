"""Train on the real S&P 500 / NASDAQ sample against the real MLflow server and load the model back."""

from __future__ import annotations

import asyncio
import json

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from kestrel_featurelib import default_feature_set
from kestrel_inference.training import TrainingConfig, run_training
from kestrel_inference.training.bars import from_sample


@pytest.mark.integration
def test_train_registers_a_model_the_live_alias_serves(mlflow_tracking_uri: str, unique: str) -> None:
    name = f"kestrel-direction-test-{unique}"
    lines: list[str] = []
    config = TrainingConfig(
        symbols=("SP500", "NASDAQ"),
        reference="SP500",
        source="sample",
        model_name=name,
        alias="live",
        experiment=f"kestrel-training-test-{unique}",
        tracking_uri=mlflow_tracking_uri,
        models=("logreg", "lightgbm"),
        cv_folds=3,
        tune_trials=3,
    )
    result = run_training(config, report=lines.append)
    feature_set = default_feature_set("SP500")
    assert any("sample:sp500" in line for line in lines) and any("sample:nasdaq" in line for line in lines)

    client = MlflowClient(mlflow_tracking_uri)
    version = client.get_model_version_by_alias(name, "live")
    assert version.version == result.registered.version
    assert version.tags["feature_set_version"] == feature_set.version
    assert version.tags["reference_symbol"] == "SP500"
    assert version.tags["horizon"] == "5" and version.tags["cost_bps"] == "10"
    assert json.loads(version.tags["feature_names"]) == list(feature_set.names)
    assert client.get_registered_model(name).tags["feature_set_version"] == feature_set.version

    run = client.get_run(result.registered.run_id)
    for metric in ("accuracy", "log_loss", "roc_auc", "precision_up", "recall_up", "base_rate_up"):
        assert metric in run.data.metrics
    assert "baseline_accuracy" in run.data.metrics
    assert run.data.params["feature_set_version"] == feature_set.version
    assert run.data.params["embargo"] == "5"
    assert str(result.data_range["SP500"]["first_ts"]).startswith("2000-")  # 1999 + 498 warm-up bars
    assert str(result.data_range["SP500"]["last_ts"]).startswith("2018-12")
    assert result.train_rows > 4000 and result.validation_rows > 1000

    model = mlflow.pyfunc.load_model(f"models:/{name}@live")
    inputs = model.metadata.get_input_schema().input_names()
    assert inputs == list(feature_set.names)
    # One feature row of the last sample day, computed by the live catalogue, is scored as P(up).

    spx = asyncio.run(from_sample("sp500"))
    row = feature_set.batch(spx, reference=spx[["ts", "close"]]).tail(1)
    p_up = np.asarray(model.predict(row))
    assert p_up.shape == (1,)
    assert 0.0 < float(p_up[0]) < 1.0

    # The walk-forward evaluation of each kind: means, every fold on MLflow's step axis, cv.json.
    assert result.cv is not None and [cv.kind for cv in result.cv.results] == ["logreg", "lightgbm"]
    for kind in ("logreg", "lightgbm"):
        assert 0.4 < run.data.metrics[f"cv_{kind}_roc_auc"] < 0.6  # daily index direction: near chance
        history = client.get_metric_history(run.info.run_id, f"cv_{kind}_fold_roc_auc")
        assert sorted(m.step for m in history) == [1, 2, 3]
        cv = next(c for c in result.cv.results if c.kind == kind)
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == [
            f.metrics["roc_auc"] for f in cv.folds
        ]
        assert run.data.metrics[f"cv_{kind}_roc_auc"] == cv.mean["roc_auc"]
    assert run.data.params["cv_scheme"].startswith("anchored walk-forward, 3 folds")
    assert run.data.tags["code_version"] not in ("", "unknown")  # the tests run from the git checkout
    cv_json = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/cv.json")
    assert [f["fold"] for f in cv_json["models"]["lightgbm"]["folds"]] == [1, 2, 3]
    shown = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {f"evaluation/{n}" for n in ("evaluation.json", "roc.png", "calibration.png")} <= shown
    evaluation = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/evaluation/evaluation.json")
    assert abs(evaluation["roc"]["auc"] - run.data.metrics["roc_auc"]) < 1e-9  # the served model's
    assert sum(map(sum, evaluation["confusion_matrix"]["rows_true_cols_predicted"])) == result.validation_rows
    # Tuned on the same folds: the defaults are the first trial, and the served model takes the best.
    assert (
        run.data.metrics["tune_lightgbm_best_log_loss"] <= run.data.metrics["tune_lightgbm_default_log_loss"]
    )
    assert run.data.metrics["tune_logreg_trials"] == 3
    for name in ("num_leaves", "n_estimators", "min_child_samples"):
        assert run.data.params[name] == run.data.params[f"tuned_lightgbm_{name}"]
