"""`python -m kestrel_features`: the features service process.

Wiring only: `start_service` (settings, logging, tracing, build info) runs `service.serve`
(SIGTERM/SIGINT: finish the bar in hand, commit, close, exit 0).
"""

from __future__ import annotations

from kestrel_features.service import readiness_checks, serve
from kestrel_features.settings import FeaturesSettings
from kestrel_platform.service import start_service

__all__ = ["main", "readiness_checks"]  # readiness_checks: what deploy manifests wait for


def main() -> None:
    start_service(FeaturesSettings, "kestrel-features", serve)


if __name__ == "__main__":
    main()
