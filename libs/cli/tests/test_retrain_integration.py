"""`kestrel retrain` against the REAL Prometheus (no PSI series yet: nothing to retrain) and, with a
drifted answer from a local server speaking Prometheus's query API, a retraining registered in the
REAL MLflow whose version the gate decided."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from kestrel_cli.main import app

pytestmark = pytest.mark.integration
DRIFTED = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {"feature": "rv_20"}, "value": [1.7e9, "0.42"]}]},
}


@pytest.fixture
def drifted_prometheus() -> Iterator[str]:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert self.path.startswith("/api/v1/query?query=")
            body = json.dumps(DRIFTED).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_no_psi_series_means_no_retraining(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["retrain", "--psi-threshold", "1000"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "not retraining" in result.output


def test_drift_past_the_threshold_trains_a_challenger_through_the_gate(
    drifted_prometheus: str, mlflow_tracking_uri: str, unique: str
) -> None:
    name = f"retrain-{unique}"
    env = {"COLUMNS": "200", "KESTREL_PROMETHEUS_URL": drifted_prometheus}
    env["KESTREL_MLFLOW_TRACKING_URI"] = mlflow_tracking_uri
    args = ["retrain", "--psi-threshold", "0.25", "--", "--source", "sample", "--model-name", name]
    result = CliRunner().invoke(app, [*args, "--cv-folds", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert "retraining: 1 feature(s) drifted past PSI 0.25: rv_20 0.420" in result.output
    version = MlflowClient(mlflow_tracking_uri).get_model_version(name, "1")
    assert version.tags["gate_decision"] == "promoted"  # the first version: no champion to beat
