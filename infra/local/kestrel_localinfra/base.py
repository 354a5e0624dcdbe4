"""What every local server provides to the orchestrator."""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from .settings import InfraConfig, Ports


class Server(ABC):
    name: ClassVar[str]
    # Servers that must be ready before this one starts (MLflow keeps its runs in PostgreSQL).
    requires: ClassVar[tuple[str, ...]] = ()
    # Fields of Ports this server listens on; the first is the one clients use.
    port_fields: ClassVar[tuple[str, ...]]
    ready_timeout: ClassVar[float] = 60.0
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 30.0

    def __init__(self, cfg: InfraConfig) -> None:
        self.cfg = cfg

    @property
    def ports(self) -> dict[str, int]:
        """Port by the environment variable that moves it."""
        return {Ports.env_name(f): getattr(self.cfg.ports, f) for f in self.port_fields}

    @property
    def log_path(self) -> Path:
        return self.cfg.log_path(self.name)

    @property
    def pid_path(self) -> Path:
        return self.cfg.pid_path(self.name)

    @property
    def data_dir(self) -> Path:
        return self.cfg.data_dir(self.name)

    def missing_packages(self) -> list[str]:
        """Debian packages to install before this server can start."""
        return []

    def prepare(self) -> None:
        """Create directories, write configuration, initialise storage on first start."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def command(self) -> list[str]: ...

    def run_as(self) -> str | None:
        """The system user to run as; None: the invoking user."""
        return None

    def environment(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def probe(self) -> None:
        """One real client call; raises while the server is not ready."""

    def after_ready(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Idempotent setup that needs the running server (databases, users)."""
