"""`python -m kestrel_gateway`: the gateway service process (wiring in `service.py`)."""

from __future__ import annotations

from kestrel_gateway.service import readiness_checks, serve
from kestrel_gateway.settings import GatewaySettings
from kestrel_platform.service import start_service

__all__ = ["main", "readiness_checks"]


def main() -> None:
    start_service(GatewaySettings, "kestrel-gateway", serve)


if __name__ == "__main__":
    main()
