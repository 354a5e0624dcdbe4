"""MLflow tracking server: runs in PostgreSQL, artifacts served from the run directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .base import Server
from .prometheus_monitor import http_ok
from .render import mlflow_args
from .settings import InfraError


class MlflowTracking(Server):
    name = "mlflow"
    requires = ("postgres",)
    port_fields = ("mlflow",)
    # The first start creates MLflow's schema in PostgreSQL (dozens of migrations).
    ready_timeout = 180.0

    @property
    def executable(self) -> Path:
        # The mlflow of the environment running this CLI (`uv run` puts the venv's python first).
        return Path(sys.executable).parent / "mlflow"

    def prepare(self) -> None:
        super().prepare()
        if not self.executable.exists():
            raise InfraError(f"{self.executable} not found; run `uv sync --all-packages` first")
        (self.data_dir / "artifacts").mkdir(exist_ok=True)

    def command(self) -> list[str]:
        return [str(self.executable), *mlflow_args(self.cfg, self.data_dir / "artifacts")]

    def environment(self) -> dict[str, str]:
        return {
            # The job runner (GenAI judges and scorers) is a second long-lived process we do not use.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "PYTHONUNBUFFERED": "1",
        }

    def probe(self) -> None:
        base = f"http://{self.cfg.host}:{self.cfg.ports.mlflow}"
        body = http_ok(f"{base}/api/2.0/mlflow/experiments/search?max_results=1", timeout=5)
        if "experiments" not in json.loads(body):
            raise InfraError(f"MLflow at {base} answered without experiments: {body[:200]!r}")
