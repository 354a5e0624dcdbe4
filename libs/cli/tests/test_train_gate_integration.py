"""`kestrel train` end to end against the REAL MLflow: a first LightGBM is promoted (no champion),
an LSTM challenger goes through the gate against it on the same folds and is promoted or refused with
every reason recorded on its version, and the registered LSTM, loaded as the inference service loads
it, scores the live row built from a symbol's vector history exactly as the offline windowed rows."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from kestrel_cli.main import app
from kestrel_featurelib import default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.domain import feature_row
from kestrel_inference.model_registry import MlflowModelSource
from kestrel_inference.training.dataset import build_dataset
from kestrel_inference.training.labels import LabelSpec

pytestmark = pytest.mark.integration
runner = CliRunner()


def _train(uri: str, name: str, *args: str) -> str:
    common = ["train", "--source", "sample", "--model-name", name, "--cv-folds", "3"]
    result = runner.invoke(app, [*common, *args], env={"COLUMNS": "220", "KESTREL_MLFLOW_TRACKING_URI": uri})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_gate_decides_with_reasons_and_the_lstm_serves_its_offline_predictions(
    mlflow_tracking_uri: str, unique: str
) -> None:
    name = f"gate-test-{unique}"
    first = _train(mlflow_tracking_uri, name, "--labels", "triple-barrier")
    assert "promoted" in first and "no champion to beat" in first
    client = MlflowClient(mlflow_tracking_uri)
    assert client.get_model_version_by_alias(name, "live").version == "1"
    assert client.get_model_version(name, "1").tags["label_definition"].startswith("triple barrier")

    second = _train(mlflow_tracking_uri, name, "--models", "lstm", "--serve", "lstm", "--gate-alpha", "0.2")
    assert "gate:" in second
    v2 = client.get_model_version(name, "2")
    assert v2.tags["model_kind"] == "lstm" and v2.tags["input_window"] == "16"
    assert v2.tags["gate_champion"] == "1"
    assert "paired t-test p <= 0.2" in v2.tags["gate_policy"]  # the policy the command was given
    reasons = json.loads(v2.tags["gate_reasons"])
    assert reasons[0].startswith("leakage check passed: shuffled-label AUC")
    assert reasons[1].startswith(
        ("statistically beats lightgbm v1", "statistically does not beat lightgbm v1")
    )
    assert reasons[2].startswith(("economically beats lightgbm v1", "economically does not beat lightgbm v1"))
    promoted = v2.tags["gate_decision"] == "promoted"
    live = client.get_model_version_by_alias(name, "live").version
    assert live == ("2" if promoted else "1")
    if not promoted:
        assert client.get_model_version_by_alias(name, "challenger").version == "2"
    for tag in ("code_version", "data_first_ts", "data_last_ts", "label_definition", "cv_scheme", "symbols"):
        assert v2.tags[tag], tag
    gate = mlflow.artifacts.load_dict(f"runs:/{v2.tags['run_id']}/gate.json")
    assert gate["reasons"] == reasons

    served = MlflowModelSource(mlflow_tracking_uri).load(name, "2")
    assert served.window == 16 and served.kind == "lstm"
    fs = default_feature_set("SP500")
    bars = {"SP500": arch_daily_bars("sp500"), "NASDAQ": arch_daily_bars("nasdaq")}
    dataset = build_dataset(bars, bars["SP500"][["ts", "close"]], fs, LabelSpec(5, 10))
    windowed = dataset.windowed(16)
    assert dataset.scoring_rows is not None and windowed.scoring_rows is not None
    offline_rows = windowed.scoring_rows.tail(30)
    offline = mlflow.pyfunc.load_model(f"models:/{name}/2").predict(
        offline_rows[list(windowed.feature_names)]
    )
    scored: list[float] = []
    every = dataset.scoring_rows
    for at in range(len(every) - 30, len(every)):
        row = every.iloc[at]
        mine = every.iloc[:at]
        earlier = mine[mine["symbol"] == row["symbol"]].tail(15)
        history = [dict(zip(fs.names, r, strict=True)) for r in earlier[list(fs.names)].to_numpy()]
        values = {n: float(row[n]) for n in fs.names}
        scored.append(float(served.predict(feature_row(served, values, fs.version, history))[0]))
    assert np.allclose(scored, np.asarray(offline), rtol=0, atol=1e-6)

    client.set_model_version_tag(name, "2", "input_window", "4")  # tags that contradict the signature
    with pytest.raises(ValueError, match="signature takes 800 input columns"):
        MlflowModelSource(mlflow_tracking_uri).load(name, "2")
    with pytest.raises(ValueError, match="this deployment serves 'other'"):
        MlflowModelSource(mlflow_tracking_uri, expected_feature_set="other").load(name, "1")
