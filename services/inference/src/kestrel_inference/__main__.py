"""`python -m kestrel_inference`: the inference service process.

Wiring only: settings, logging, tracing, the /health, /ready and /metrics server, the run loop. At
this stage the service serves those endpoints, with /ready checking Kafka, MLflow, and waits for
SIGTERM; issue #4 fills it in with loading the model behind the registry alias, scoring
`features.vectors` into `trading.signals` and `POST /predict`.
"""

from __future__ import annotations

import asyncio

from kestrel_inference.settings import InferenceSettings
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.probes import kafka_probe, mlflow_probe
from kestrel_platform.service import serve_health_until_stopped, start_service


def readiness_checks(settings: InferenceSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "mlflow": mlflow_probe(settings.mlflow_tracking_uri),
    }


async def serve(settings: InferenceSettings, stop: asyncio.Event) -> None:
    await serve_health_until_stopped(settings, readiness_checks(settings), stop)


def main() -> None:
    start_service(InferenceSettings, "kestrel-inference", serve)


if __name__ == "__main__":
    main()
