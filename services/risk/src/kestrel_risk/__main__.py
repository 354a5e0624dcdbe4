"""`python -m kestrel_risk`: the risk service process (wiring in `service.py`)."""

from __future__ import annotations

from kestrel_platform.service import start_service
from kestrel_risk.service import readiness_checks, serve
from kestrel_risk.settings import RiskSettings

__all__ = ["main", "readiness_checks"]


def main() -> None:
    start_service(RiskSettings, "kestrel-risk", serve)


if __name__ == "__main__":
    main()
