"""up / down / status across the servers, in dependency order, under one lock per run directory."""

from __future__ import annotations

import fcntl
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from . import install, procs
from .base import Server
from .kafka_broker import KafkaBroker
from .mlflow_tracking import MlflowTracking
from .postgres_db import PostgresDb
from .prometheus_monitor import PrometheusMonitor
from .redis_store import RedisStore
from .settings import InfraConfig, InfraError

# Start order; `down` walks it backwards so MLflow leaves before PostgreSQL does. MLflow comes
# right after PostgreSQL: it and Kafka are the slow starters, and they should overlap.
SERVER_TYPES: tuple[type[Server], ...] = (
    PostgresDb,
    MlflowTracking,
    RedisStore,
    KafkaBroker,
    PrometheusMonitor,
)
SERVER_NAMES = tuple(t.name for t in SERVER_TYPES)


def select(cfg: InfraConfig, only: Sequence[str] | None, with_requirements: bool) -> list[Server]:
    # None: every server. An empty list selects none, so `down --only "$(cat started)"` after an
    # `up` that started nothing stops nothing.
    wanted = set(SERVER_NAMES if only is None else only)
    unknown = wanted - set(SERVER_NAMES)
    if unknown:
        raise InfraError(f"unknown server(s) {', '.join(sorted(unknown))}; known: {', '.join(SERVER_NAMES)}")
    if with_requirements:
        for server_type in reversed(SERVER_TYPES):
            if server_type.name in wanted:
                wanted.update(server_type.requires)
    return [t(cfg) for t in SERVER_TYPES if t.name in wanted]


@contextmanager
def run_lock(cfg: InfraConfig) -> Iterator[None]:
    """Two `up`/`down` at once on one run directory take turns instead of racing."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with (cfg.run_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _check_ports(server: Server) -> None:
    for env_name, port in server.ports.items():
        if procs.port_in_use(server.cfg.host, port):
            raise InfraError(
                f"port {port} is in use by another process, so {server.name} cannot start; "
                f"stop it or set {env_name} to a free port (see `ss -ltnp 'sport = :{port}'`)"
            )


def up(
    cfg: InfraConfig, only: Sequence[str] | None, on_start: Callable[[str], None] | None = None
) -> list[str]:
    """Start what is not running, wait until everything answers; the names this call started.
    on_start hears of each start at once, so a caller knows what to stop even if `up` fails later."""
    started_at = time.monotonic()
    servers = select(cfg, only, with_requirements=True)
    with run_lock(cfg):
        records = {s.name: procs.running(s.pid_path) for s in servers}
        to_start = [s for s in servers if records[s.name] is None]
        # Every port first: a conflict fails before anything is started.
        for server in to_start:
            _check_ports(server)
        install.ensure_packages(p for s in to_start for p in s.missing_packages())
        spawned: dict[str, subprocess.Popen[bytes]] = {}
        ready: set[str] = set()

        def await_ready(server: Server) -> None:
            if server.name in ready:
                return
            record = records[server.name]
            hint = "" if server.name in spawned else _ALREADY_RUNNING_HINT
            waited = procs.wait_ready(
                server.probe, what=server.name, timeout=server.ready_timeout, log_path=server.log_path,
                process=spawned.get(server.name), record=record, hint=hint,
            )  # fmt: skip
            server.after_ready()
            ready.add(server.name)
            verb = "started" if server.name in spawned else "already running"
            pid = record.pid if record else "?"
            print(f"{server.name:<11} {verb} (pid {pid}), ready after {waited:.1f}s", flush=True)

        by_name = {s.name: s for s in servers}
        # Start everything that can start at once; wait only where a server needs another one.
        for server in to_start:
            for requirement in server.requires:
                await_ready(by_name[requirement])
            server.prepare()
            process = procs.spawn(
                server.command(), log_path=server.log_path, cwd=server.data_dir,
                env=server.environment(), user=server.run_as(),
            )  # fmt: skip
            spawned[server.name] = process
            records[server.name] = procs.write_pid(server.pid_path, process.pid)
            if on_start is not None:
                on_start(server.name)
        for server in servers:
            await_ready(server)
    print(f"ready in {time.monotonic() - started_at:.1f}s; logs in {cfg.run_dir / 'logs'}")
    return list(spawned)


_ALREADY_RUNNING_HINT = (
    "it was already running; if a KESTREL_INFRA_*_PORT changed since it started, run `down` first"
)


def down(cfg: InfraConfig, only: Sequence[str] | None) -> None:
    with run_lock(cfg):
        for server in reversed(select(cfg, only, with_requirements=False)):
            record = procs.running(server.pid_path)
            if record is None:
                print(f"{server.name:<11} not running")
                continue
            began = time.monotonic()
            forced = procs.stop(record, server.stop_signal, server.stop_timeout)
            server.pid_path.unlink(missing_ok=True)
            how = "did not stop in time: killed" if forced else "stopped"
            took = time.monotonic() - began
            print(f"{server.name:<11} {how} (pid {record.pid}) after {took:.1f}s", flush=True)


@dataclass(frozen=True)
class ServerStatus:
    name: str
    pid: int | None
    ports: str
    state: str  # one word, so scripts can take the last field: ready | unresponsive | stopped


def status(cfg: InfraConfig, only: Sequence[str] | None) -> list[ServerStatus]:
    rows = []
    for server in select(cfg, only, with_requirements=False):
        record = procs.running(server.pid_path)
        state = "stopped"
        if record is not None:
            try:
                server.probe()
                state = "ready"
            except Exception:  # any failed probe: alive but not answering
                state = "unresponsive"
        ports = ",".join(str(p) for p in server.ports.values())
        rows.append(ServerStatus(server.name, record.pid if record else None, ports, state))
    return rows
