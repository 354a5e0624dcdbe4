"""Settings of the command line: the same KESTREL_* variables the services read."""

from __future__ import annotations

from typing import Self

from kestrel_platform.settings import ServiceSettings, load_settings_or_exit


class CliSettings(ServiceSettings):
    service_name: str = "kestrel-cli"
    http_port: int = 0
    prometheus_url: str = "http://127.0.0.1:19090"

    @classmethod
    def load(cls) -> Self:
        return load_settings_or_exit(cls)
