"""Unit tests of the local infrastructure's pure parts: settings, rendered configuration, pid files."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import yaml
from infra.local.kestrel_localinfra import install, procs, render
from infra.local.kestrel_localinfra.kafka_broker import new_cluster_id
from infra.local.kestrel_localinfra.orchestrator import SERVER_NAMES, select
from infra.local.kestrel_localinfra.settings import InfraConfig, InfraError, Ports, client_env

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE_PORTS = {
    "gateway": 8000, "ingestion": 8001, "features": 8002, "inference": 8003,
    "backtest": 8004, "risk": 8005, "execution": 8006,
}  # fmt: skip


def config(**env: str) -> InfraConfig:
    return InfraConfig.from_env({"KESTREL_RUN_DIR": "/tmp/kestrel-run", **env})


def properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_defaults_are_the_conventions_ports() -> None:
    env = client_env(config())
    assert env["KESTREL_KAFKA_BOOTSTRAP"] == "127.0.0.1:19092"
    assert env["KESTREL_DATABASE_URL"] == "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel"
    assert env["KESTREL_REDIS_URL"] == "redis://127.0.0.1:16379/0"
    assert env["KESTREL_MLFLOW_TRACKING_URI"] == "http://127.0.0.1:15000"
    assert env["KESTREL_PROMETHEUS_URL"] == "http://127.0.0.1:19090"
    assert env["KESTREL_RUN_DIR"] == "/tmp/kestrel-run"


def test_run_dir_defaults_to_repo_dot_run() -> None:
    assert InfraConfig.from_env({}).run_dir == REPO_ROOT / ".run"


def test_port_override_moves_server_and_client_env() -> None:
    cfg = config(KESTREL_INFRA_REDIS_PORT="26999")
    assert cfg.ports.redis == 26999
    assert client_env(cfg)["KESTREL_REDIS_URL"] == "redis://127.0.0.1:26999/0"
    assert "port 26999" in render.redis_conf(cfg, Path("/d")).splitlines()


@pytest.mark.parametrize("raw", ["abc", "0", "70000"])
def test_bad_port_override_names_the_variable(raw: str) -> None:
    with pytest.raises(InfraError, match="KESTREL_INFRA_KAFKA_PORT"):
        Ports.from_env({"KESTREL_INFRA_KAFKA_PORT": raw})


def test_two_servers_on_one_port_is_refused() -> None:
    with pytest.raises(InfraError, match="KESTREL_INFRA_KAFKA_PORT and KESTREL_INFRA_REDIS_PORT are both"):
        Ports.from_env({"KESTREL_INFRA_KAFKA_PORT": "16379"})


def test_kafka_properties_single_kraft_node_without_auto_topics() -> None:
    cfg = config(KESTREL_INFRA_KAFKA_PORT="29100", KESTREL_INFRA_KAFKA_CONTROLLER_PORT="29101")
    props = properties(render.kafka_server_properties(cfg, Path("/data/kafka")))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29101"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29100,CONTROLLER://127.0.0.1:29101"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29100"
    assert props["log.dirs"] == "/data/kafka"
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_kafka_cluster_id_has_kafkas_format() -> None:
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 22 and not i.startswith("-") and "=" not in i for i in ids)


def test_redis_conf_is_local_and_append_only() -> None:
    text = render.redis_conf(config(), Path("/data/redis"))
    lines = text.splitlines()
    assert "bind 127.0.0.1" in lines
    assert "port 16379" in lines
    assert "appendonly yes" in lines
    assert 'dir "/data/redis"' in lines
    assert "daemonize no" in lines  # the pid we record must be the server itself


def test_postgres_conf_listens_on_loopback_port() -> None:
    text = render.postgres_conf(config(KESTREL_INFRA_POSTGRES_PORT="25999"))
    assert "listen_addresses = '127.0.0.1'" in text
    assert "port = 25999" in text
    assert "fsync" not in text  # durability stays on


def test_mlflow_args_use_postgres_psycopg2_one_worker_and_served_artifacts() -> None:
    args = render.mlflow_args(config(), Path("/data/mlflow/artifacts"))
    flags = dict(zip(args[1::2], args[2::2], strict=False))
    assert args[0] == "server"
    assert flags["--backend-store-uri"] == "postgresql+psycopg2://kestrel:kestrel@127.0.0.1:15432/mlflow"
    assert flags["--workers"] == "1"
    assert flags["--host"] == "127.0.0.1"
    assert flags["--port"] == "15000"
    assert "--serve-artifacts" in args
    assert args[args.index("--artifacts-destination") + 1] == "/data/mlflow/artifacts"
    assert "127.0.0.1:15000" in args[args.index("--allowed-hosts") + 1].split(",")


def test_prometheus_scrapes_every_service_at_its_port() -> None:
    doc = yaml.safe_load((REPO_ROOT / "infra" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in doc["scrape_configs"]}
    services = {p.name for p in (REPO_ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}
    assert services == set(SERVICE_PORTS)
    for name, port in SERVICE_PORTS.items():
        assert jobs[name] == [f"127.0.0.1:{port}"]
    assert jobs["prometheus"] == ["127.0.0.1:19090"]


def test_select_adds_requirements_only_for_up() -> None:
    cfg = config()
    assert [s.name for s in select(cfg, ["mlflow"], with_requirements=True)] == ["postgres", "mlflow"]
    assert [s.name for s in select(cfg, ["mlflow"], with_requirements=False)] == ["mlflow"]
    assert [s.name for s in select(cfg, None, with_requirements=False)] == list(SERVER_NAMES)
    assert select(cfg, [], with_requirements=True) == []  # `down --only ""` stops nothing
    with pytest.raises(InfraError, match="unknown server"):
        select(cfg, ["zookeeper"], with_requirements=True)


def test_missing_commands_names_the_packages_to_install() -> None:
    wanted = {"/nonexistent/bin/postgres": "postgresql-15", "sh": "dash", "no-such-cmd-kestrel": "pkg"}
    assert install.missing_commands(wanted) == ["postgresql-15", "pkg"]


def test_pid_record_matches_only_the_same_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "me.pid"
    record = procs.write_pid(pid_file, os.getpid())
    assert procs.read_pid(pid_file) == record
    assert procs.running(pid_file) == record
    # Same pid, different start time: a recycled pid, which must never count as ours.
    recycled = procs.PidRecord(record.pid, record.start_ticks + 1)
    pid_file.write_text(f"{recycled.pid}\n{recycled.start_ticks}\n")
    assert procs.running(pid_file) is None
    assert not pid_file.exists()  # the stale file is cleaned up


def test_port_in_use_sees_bound_and_listening_sockets() -> None:
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        assert procs.port_in_use("127.0.0.1", port)  # bound, not listening
        bound.listen()
        assert procs.port_in_use("127.0.0.1", port)
    assert not procs.port_in_use("127.0.0.1", port)
