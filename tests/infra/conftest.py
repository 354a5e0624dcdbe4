"""Shared helpers for the local-infrastructure tests: the CLI as a subprocess, free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_LOCAL = REPO_ROOT / "infra" / "local"
CLI = INFRA_LOCAL / "kestrel_infra.py"
# The unit tests import the package as infra.local.kestrel_localinfra (namespace packages from the
# repository root, the same name mypy gives it); it is not installed.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 280
) -> subprocess.CompletedProcess[str]:
    """The CLI exactly as `uv run python infra/local/kestrel_infra.py ...` runs it."""
    return subprocess.run(
        [sys.executable, str(CLI), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def cli() -> RunCli:
    """run_cli for test modules (they cannot import conftest under --import-mode=importlib)."""
    return run_cli


@pytest.fixture
def free_tcp_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def local_infra() -> Mapping[str, str]:
    """The shared infrastructure, brought up (idempotently) and left running for whoever is next."""
    result = run_cli("up")
    assert result.returncode == 0, f"`up` failed:\n{result.stdout}\n{result.stderr}"
    env_out = run_cli("env")
    assert env_out.returncode == 0, env_out.stderr
    exports = {}
    for line in env_out.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = value.strip("'")
    return exports


@pytest.fixture
def scratch_infra(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private run directory on free ports, so a test can start and stop servers of its own
    without touching the shared ones; whatever it started is stopped afterwards."""
    env = {
        "KESTREL_RUN_DIR": str(tmp_path / "run"),
        "KESTREL_INFRA_REDIS_PORT": str(free_port()),
        "KESTREL_INFRA_KAFKA_PORT": str(free_port()),
        "KESTREL_INFRA_KAFKA_CONTROLLER_PORT": str(free_port()),
        "KESTREL_INFRA_PROMETHEUS_PORT": str(free_port()),
    }
    yield env
    run_cli("down", env=env)
