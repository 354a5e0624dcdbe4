"""Where the tests find Kafka, PostgreSQL, Redis and MLflow.

In order: the KESTREL_* environment variables; else testcontainers when a Docker engine answers;
else the local infrastructure of `infra/local` (started on demand, idempotently), which is what the
development machines and CI use.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

LOCAL_DEFAULTS = {
    "KESTREL_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
    "KESTREL_DATABASE_URL": "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel",
    "KESTREL_REDIS_URL": "redis://127.0.0.1:16379/0",
    "KESTREL_MLFLOW_TRACKING_URI": "http://127.0.0.1:15000",
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    kafka_bootstrap: str
    database_url: str
    redis_url: str
    mlflow_tracking_uri: str
    source: str  # "environment", "testcontainers" or "local"


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "infra" / "local").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    raise RuntimeError(f"cannot find the Kestrel repository above {here}")


def docker_available() -> bool:
    try:
        import docker  # noqa: PLC0415 - optional, only for machines with an engine

        client = docker.from_env(timeout=3)
        return bool(client.ping())
    except Exception:
        return False


def _from_environment() -> Endpoints | None:
    if not all(os.environ.get(name) for name in LOCAL_DEFAULTS):
        return None
    env = os.environ
    return Endpoints(
        env["KESTREL_KAFKA_BOOTSTRAP"],
        env["KESTREL_DATABASE_URL"],
        env["KESTREL_REDIS_URL"],
        env["KESTREL_MLFLOW_TRACKING_URI"],
        "environment",
    )


def _local() -> Endpoints:
    """Start the local infrastructure if it is not up yet (a no-op when it is) and use it."""
    root = repo_root()
    result = subprocess.run(
        [sys.executable, str(root / "infra" / "local" / "kestrel_infra.py"), "up"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"local infrastructure failed to start:\n{result.stdout}\n{result.stderr}")
    env = {name: os.environ.get(name) or default for name, default in LOCAL_DEFAULTS.items()}
    return Endpoints(
        env["KESTREL_KAFKA_BOOTSTRAP"],
        env["KESTREL_DATABASE_URL"],
        env["KESTREL_REDIS_URL"],
        env["KESTREL_MLFLOW_TRACKING_URI"],
        "local",
    )


def _testcontainers(stack: ExitStack) -> Endpoints:
    from kestrel_testing.containers import start_containers  # noqa: PLC0415 - needs docker

    return start_containers(stack)


def resolve(stack: ExitStack) -> Endpoints:
    """Endpoints for this test session; containers started here are stopped when `stack` closes."""
    found = _from_environment()
    if found is not None:
        return found
    if docker_available():
        return _testcontainers(stack)
    return _local()
