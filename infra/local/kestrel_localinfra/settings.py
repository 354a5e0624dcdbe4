"""Where the local servers live and listen: the run directory and the fixed ports, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
DB_USER = "kestrel"
DB_PASSWORD = "kestrel"
DB_NAMES = ("kestrel", "mlflow")


class InfraError(Exception):
    """A failure the user can act on; the CLI prints its message without a traceback."""


@dataclass(frozen=True)
class Ports:
    """The ports of docs/CONVENTIONS-helpers.md; each one can be moved with KESTREL_INFRA_<FIELD>_PORT."""

    kafka: int = 19092
    kafka_controller: int = 19093
    postgres: int = 15432
    redis: int = 16379
    mlflow: int = 15000
    prometheus: int = 19090

    @staticmethod
    def env_name(field: str) -> str:
        return f"KESTREL_INFRA_{field.upper()}_PORT"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        values: dict[str, int] = {}
        for f in fields(cls):
            name = cls.env_name(f.name)
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                port = int(raw)
            except ValueError:
                raise InfraError(f"{name}={raw!r} is not a port number") from None
            if not 1 <= port <= 65535:
                raise InfraError(f"{name}={port} is outside 1..65535")
            values[f.name] = port
        ports = cls(**values)
        seen: dict[int, str] = {}
        for f in fields(cls):
            port = getattr(ports, f.name)
            if port in seen:
                raise InfraError(f"{cls.env_name(seen[port])} and {cls.env_name(f.name)} are both {port}")
            seen[port] = f.name
        return ports


@dataclass(frozen=True)
class InfraConfig:
    run_dir: Path
    ports: Ports
    # None: a cache directory named after the pom's hash, so a changed pom never mixes jar sets.
    kafka_libs: Path | None = None
    repo_root: Path = REPO_ROOT
    host: str = HOST

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> InfraConfig:
        env = os.environ if env is None else env
        run_dir = Path(env.get("KESTREL_RUN_DIR") or REPO_ROOT / ".run").expanduser().resolve()
        libs = env.get("KESTREL_KAFKA_LIBS")
        return cls(
            run_dir=run_dir,
            ports=Ports.from_env(env),
            kafka_libs=Path(libs).expanduser().resolve() if libs else None,
        )

    def log_path(self, server: str) -> Path:
        return self.run_dir / "logs" / f"{server}.log"

    def pid_path(self, server: str) -> Path:
        return self.run_dir / "pids" / f"{server}.pid"

    def data_dir(self, server: str) -> Path:
        return self.run_dir / server

    @property
    def database_url(self) -> str:
        return self.db_url("kestrel")

    def db_url(self, database: str) -> str:
        return f"postgresql://{DB_USER}:{DB_PASSWORD}@{self.host}:{self.ports.postgres}/{database}"


def client_env(cfg: InfraConfig) -> dict[str, str]:
    """The KESTREL_* variables that point services and tests at these servers."""
    p = cfg.ports
    return {
        "KESTREL_KAFKA_BOOTSTRAP": f"{cfg.host}:{p.kafka}",
        "KESTREL_DATABASE_URL": cfg.database_url,
        "KESTREL_REDIS_URL": f"redis://{cfg.host}:{p.redis}/0",
        "KESTREL_MLFLOW_TRACKING_URI": f"http://{cfg.host}:{p.mlflow}",
        "KESTREL_PROMETHEUS_URL": f"http://{cfg.host}:{p.prometheus}",
        "KESTREL_RUN_DIR": str(cfg.run_dir),
    }
