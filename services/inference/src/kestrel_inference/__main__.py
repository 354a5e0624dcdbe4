"""`python -m kestrel_inference`: the inference service process (wiring in `service.py`)."""

from __future__ import annotations

from kestrel_inference.service import infrastructure_checks, serve
from kestrel_inference.settings import InferenceSettings
from kestrel_platform.service import start_service

# What deploy manifests wait for (/ready also requires the source to be ready, e.g. a loaded model).
readiness_checks = infrastructure_checks


def main() -> None:
    start_service(InferenceSettings, "kestrel-inference", serve)


if __name__ == "__main__":
    main()
