"""`python -m kestrel_<name>` — the command every image runs — as a real process, per service.

Its dependencies point at a closed port, so no server is needed and /ready must fail naming each
one; /health must still pass (liveness is the process, not its dependencies), /metrics must carry
the build info, and SIGTERM must end it cleanly with status 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def service_environment(**overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("KESTREL_")}
    dead = free_port()  # released again: nothing listens there
    env.update(
        KESTREL_KAFKA_BOOTSTRAP=f"127.0.0.1:{dead}",
        KESTREL_REDIS_URL=f"redis://127.0.0.1:{dead}/0",
        KESTREL_DATABASE_URL=f"postgresql://kestrel:kestrel@127.0.0.1:{dead}/kestrel",
        KESTREL_MLFLOW_TRACKING_URI=f"http://127.0.0.1:{dead}",
    )
    env.update(overrides)
    return env


def wait_for_health(name: str, process: subprocess.Popen[str], base: str, deadline: float) -> None:
    while True:
        assert process.poll() is None, f"{name} exited early:\n{process.communicate()[0]}"
        try:
            if get(f"{base}/health")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{name} never answered /health"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def started(service_names: list[str]) -> Iterator[dict[str, tuple[subprocess.Popen[str], str]]]:
    """Every service started at once (imports dominate, so in parallel), by name: (process, base URL)."""
    processes: dict[str, tuple[subprocess.Popen[str], str]] = {}
    try:
        for name in service_names:
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", f"kestrel_{name}"],
                env=service_environment(KESTREL_HTTP_PORT=str(port)),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            processes[name] = (process, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + START_TIMEOUT_S
        for name, (process, base) in processes.items():
            wait_for_health(name, process, base, deadline)
        yield processes
    finally:
        for process, _ in processes.values():
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.fixture
def running(
    service: str, started: dict[str, tuple[subprocess.Popen[str], str]]
) -> tuple[subprocess.Popen[str], str]:
    return started[service]


def test_service_serves_health_ready_metrics_and_stops_on_sigterm(
    service: str, running: tuple[subprocess.Popen[str], str]
) -> None:
    process, base = running

    status, body = get(f"{base}/ready")
    assert status == 503
    ready = json.loads(body)
    assert ready["checks"], f"{service}: /ready checks nothing"
    assert set(ready["failing"]) == set(ready["checks"])  # every dependency is down, and each is named

    status, metrics = get(f"{base}/metrics")
    assert status == 200
    assert f'service="{service}"' in metrics
    assert "kestrel_build_info{" in metrics

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=STOP_TIMEOUT_S)
    assert process.returncode == 0, output
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(e["event"] == "service.started" and e["service"] == service for e in events), output
    assert events[-1]["event"] == "shutdown.complete"


def test_bad_configuration_exits_before_serving_and_names_the_variable(service_names: list[str]) -> None:
    # All at once: each run is an interpreter start, and they are independent.
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"kestrel_{name}"],
            env=service_environment(KESTREL_HTTP_PORT="not-a-port"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in service_names
    }
    for name, process in runs.items():
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 2, f"{name}: exit {process.returncode}\n{stderr}"
        assert "KESTREL_HTTP_PORT" in stderr, f"{name}: {stderr}"
