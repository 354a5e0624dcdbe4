"""`python -m kestrel_features`: the features service process.

Wiring only: settings, logging, tracing, build info, then `service.serve` under `run_service`
(SIGTERM/SIGINT: finish the bar in hand, commit, close, exit 0).
"""

from __future__ import annotations

import functools
from importlib.metadata import version

from kestrel_features.service import readiness_checks, serve
from kestrel_features.settings import FeaturesSettings
from kestrel_platform.lifecycle import run_service
from kestrel_platform.logging import configure_logging
from kestrel_platform.metrics import set_build_info
from kestrel_platform.settings import load_settings_or_exit
from kestrel_platform.tracing import configure_tracing

__all__ = ["main", "readiness_checks"]  # readiness_checks: what deploy manifests wait for


def main() -> None:
    settings = load_settings_or_exit(FeaturesSettings)
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    set_build_info(settings.service_name, version("kestrel-features"), settings.environment)
    run_service(functools.partial(serve, settings))


if __name__ == "__main__":
    main()
