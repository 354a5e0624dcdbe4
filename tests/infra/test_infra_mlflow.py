"""MLflow through the local tracking server: a run's params, metrics and artifact written, read back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.integration


def test_run_is_logged_and_read_back(local_infra: Mapping[str, str], tmp_path: Path) -> None:
    uri = local_infra["KESTREL_MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment(f"infra-test-{uuid.uuid4().hex[:12]}")
    try:
        mlflow.set_tracking_uri(uri)
        report = tmp_path / "report.txt"
        report.write_text("sharpe=1.25\n")
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_params({"model": "ridge", "lookback": 20})
            for step, loss in enumerate([0.9, 0.5, 0.25]):
                mlflow.log_metric("loss", loss, step=step)
            mlflow.log_artifact(str(report), artifact_path="reports")

        fetched = client.get_run(run.info.run_id)
        assert fetched.info.status == "FINISHED"
        assert fetched.data.params == {"model": "ridge", "lookback": "20"}
        assert fetched.data.metrics["loss"] == 0.25
        history = client.get_metric_history(run.info.run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5), (2, 0.25)]
        # Artifacts go through the server (mlflow-artifacts:), not a path the client writes to.
        assert fetched.info.artifact_uri.startswith("mlflow-artifacts:")
        assert [a.path for a in client.list_artifacts(run.info.run_id, "reports")] == ["reports/report.txt"]
        local = client.download_artifacts(run.info.run_id, "reports/report.txt", str(tmp_path / "dl"))
        assert Path(local).read_text() == "sharpe=1.25\n"
        stored = Path(local_infra["KESTREL_RUN_DIR"]) / "mlflow" / "artifacts" / experiment_id
        assert list(stored.rglob("report.txt")), f"artifact not stored under {stored}"
    finally:
        client.delete_experiment(experiment_id)
