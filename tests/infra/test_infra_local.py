"""The local infrastructure CLI against real servers: idempotent up, status, port conflicts, down by pid,
Kafka storage across a restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import redis
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # admin re-exports it, but not in a way mypy accepts

pytestmark = pytest.mark.integration

RunCli = Callable[..., subprocess.CompletedProcess[str]]
REPO_ROOT = Path(__file__).resolve().parents[2]

SERVERS = ("postgres", "mlflow", "redis", "kafka", "prometheus")


def pid_files(run_dir: Path) -> dict[str, str]:
    return {name: (run_dir / "pids" / f"{name}.pid").read_text() for name in SERVERS}


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an exited orphan lingers until PID 1 gets round to reaping it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def shared_run_dir() -> Path:
    return Path(os.environ.get("KESTREL_RUN_DIR") or REPO_ROOT / ".run")


def test_up_twice_starts_nothing_new(cli: RunCli, local_infra: Mapping[str, str]) -> None:
    run_dir = Path(local_infra["KESTREL_RUN_DIR"])
    before = pid_files(run_dir)
    result = cli("up")
    assert result.returncode == 0, result.stderr
    assert pid_files(run_dir) == before
    lines = [line for line in result.stdout.splitlines() if line.split()[0] in SERVERS]
    assert len(lines) == len(SERVERS)
    assert all("already running" in line for line in lines), result.stdout


def test_status_reports_every_server_ready(cli: RunCli, local_infra: Mapping[str, str]) -> None:
    result = cli("status")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert set(rows) == set(SERVERS)
    pids = pid_files(Path(local_infra["KESTREL_RUN_DIR"]))
    for name, (_, pid, _ports, state) in rows.items():
        assert state == "ready"
        assert pid == pids[name].split()[0]
    assert rows["kafka"][2] == "19092,19093" or "KESTREL_INFRA_KAFKA_PORT" in os.environ


def test_port_taken_by_a_stranger_is_a_clear_error(cli: RunCli, scratch_infra: dict[str, str]) -> None:
    shared_before = pid_files(shared_run_dir()) if (shared_run_dir() / "pids").exists() else None
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        env = {**scratch_infra, "KESTREL_INFRA_REDIS_PORT": str(port)}
        result = cli("up", "--only", "redis", env=env)
    assert result.returncode == 1
    assert f"port {port} is in use by another process" in result.stderr
    assert "set KESTREL_INFRA_REDIS_PORT to a free port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (Path(scratch_infra["KESTREL_RUN_DIR"]) / "pids" / "redis.pid").exists()
    if shared_before is not None:  # the shared servers were not touched
        assert pid_files(shared_run_dir()) == shared_before


def test_down_stops_exactly_what_up_started(
    cli: RunCli, scratch_infra: dict[str, str], tmp_path: Path
) -> None:
    started_file = tmp_path / "started"
    up = cli("up", "--only", "redis", "--record-started", str(started_file), env=scratch_infra)
    assert up.returncode == 0, up.stderr
    assert started_file.read_text().strip() == "redis"
    pid_file = Path(scratch_infra["KESTREL_RUN_DIR"]) / "pids" / "redis.pid"
    pid = int(pid_file.read_text().split()[0])
    with redis.Redis(port=int(scratch_infra["KESTREL_INFRA_REDIS_PORT"])) as client:
        assert client.ping()

    again = cli("up", "--only", "redis", "--record-started", str(started_file), env=scratch_infra)
    assert again.returncode == 0, again.stderr
    assert started_file.read_text().strip() == ""  # the second up started nothing
    assert cli("down", "--only", "", env=scratch_infra).stdout == ""  # ... so it stops nothing
    assert is_running(pid)

    down = cli("down", "--only", "redis", env=scratch_infra)
    assert down.returncode == 0, down.stderr
    assert f"redis       stopped (pid {pid})" in down.stdout
    assert not is_running(pid)
    assert not pid_file.exists()
    assert "redis       not running" in cli("down", env=scratch_infra).stdout


def test_redis_data_survives_restart(cli: RunCli, scratch_infra: dict[str, str]) -> None:
    port = int(scratch_infra["KESTREL_INFRA_REDIS_PORT"])
    assert cli("up", "--only", "redis", env=scratch_infra).returncode == 0
    with redis.Redis(port=port) as client:
        client.set("kestrel:test:durable", "yes")
    assert cli("down", "--only", "redis", env=scratch_infra).returncode == 0
    assert cli("up", "--only", "redis", env=scratch_infra).returncode == 0
    with redis.Redis(port=port) as client:
        assert client.get("kestrel:test:durable") == b"yes"


def test_kafka_storage_survives_restart(cli: RunCli, scratch_infra: dict[str, str]) -> None:
    bootstrap = f"127.0.0.1:{scratch_infra['KESTREL_INFRA_KAFKA_PORT']}"
    meta = Path(scratch_infra["KESTREL_RUN_DIR"]) / "kafka" / "data" / "meta.properties"
    first = cli("up", "--only", "kafka", env=scratch_infra)
    assert first.returncode == 0, first.stderr
    cluster_before = meta.read_text()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("kestrel.infra.restart-test", num_partitions=2)])[
        "kestrel.infra.restart-test"
    ].result(30)

    assert cli("down", "--only", "kafka", env=scratch_infra).returncode == 0
    second = cli("up", "--only", "kafka", env=scratch_infra)
    assert second.returncode == 0, second.stderr
    assert meta.read_text() == cluster_before  # not formatted again
    topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    assert len(topics["kestrel.infra.restart-test"].partitions) == 2
    # Auto-creation is off: asking for an unknown topic does not create it.
    probe = AdminClient({"bootstrap.servers": bootstrap}).list_topics(
        "kestrel.infra.no-such-topic", timeout=10
    )
    assert probe.topics["kestrel.infra.no-such-topic"].error is not None


def test_env_prints_exports_for_the_configured_ports(cli: RunCli, free_tcp_port: int) -> None:
    port = free_tcp_port
    result = cli("env", env={"KESTREL_INFRA_REDIS_PORT": str(port)})
    assert result.returncode == 0
    assert f"export KESTREL_REDIS_URL=redis://127.0.0.1:{port}/0" in result.stdout.splitlines()


def test_prometheus_scrapes_itself_and_knows_every_service(local_infra: Mapping[str, str]) -> None:
    url = f"{local_infra['KESTREL_PROMETHEUS_URL']}/api/v1/targets"
    with urllib.request.urlopen(url, timeout=5) as response:
        targets = json.load(response)["data"]["activeTargets"]
    jobs = {t["labels"]["job"] for t in targets}
    services = {p.name for p in (REPO_ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}
    assert jobs == services | {"prometheus"}
    # Its own target must be healthy once it has scraped (every 5s); services may simply be down.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=5) as response:
            targets = json.load(response)["data"]["activeTargets"]
        if any(t["labels"]["job"] == "prometheus" and t["health"] == "up" for t in targets):
            return
        time.sleep(1)
    pytest.fail("Prometheus never scraped itself successfully")
