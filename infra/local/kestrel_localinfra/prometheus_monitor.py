"""Prometheus scraping every Kestrel service, with the configuration in infra/prometheus/."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

from . import install
from .base import Server
from .settings import InfraError


def http_ok(url: str, timeout: float = 2.0) -> bytes:
    """GET url; the body when it answers 200, InfraError otherwise."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
        if response.status != 200:
            raise InfraError(f"GET {url} answered {response.status}")
        return body


class PrometheusMonitor(Server):
    name = "prometheus"
    port_fields = ("prometheus",)
    ready_timeout = 30.0

    @property
    def config_path(self) -> Path:
        return self.cfg.repo_root / "infra" / "prometheus" / "prometheus.yml"

    def missing_packages(self) -> list[str]:
        return install.missing_commands({"prometheus": "prometheus"})

    def prepare(self) -> None:
        super().prepare()
        if not self.config_path.exists():
            raise InfraError(f"Prometheus configuration {self.config_path} is missing")

    def command(self) -> list[str]:
        return [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir / 'data'}",
            "--storage.tsdb.retention.time=7d",
            f"--web.listen-address={self.cfg.host}:{self.cfg.ports.prometheus}",
        ]

    def probe(self) -> None:
        http_ok(f"http://{self.cfg.host}:{self.cfg.ports.prometheus}/-/ready")
