"""`python -m kestrel_inference`: the inference service process.

Wiring only: settings, logging, tracing, the /health, /ready and /metrics server, the run loop. At
this stage the service serves those endpoints, with /ready checking Kafka, MLflow, and waits for
SIGTERM; issue #4 fills it in with loading the model behind the registry alias, scoring
`features.vectors` into `trading.signals` and `POST /predict`.
"""

from __future__ import annotations

import asyncio
import functools
from importlib.metadata import version

from kestrel_inference.settings import InferenceSettings
from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.lifecycle import run_service
from kestrel_platform.logging import configure_logging, get_logger
from kestrel_platform.metrics import set_build_info
from kestrel_platform.probes import kafka_probe, mlflow_probe
from kestrel_platform.settings import load_settings_or_exit
from kestrel_platform.tracing import configure_tracing

_log = get_logger("kestrel.inference")


def readiness_checks(settings: InferenceSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "mlflow": mlflow_probe(settings.mlflow_tracking_uri),
    }


async def serve(settings: InferenceSettings, stop: asyncio.Event) -> None:
    async with HealthServer(settings.http_host, settings.http_port, readiness_checks(settings)):
        _log.info("service.started", host=settings.http_host, port=settings.http_port)
        await stop.wait()


def main() -> None:
    settings = load_settings_or_exit(InferenceSettings)
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    set_build_info(settings.service_name, version("kestrel-inference"), settings.environment)
    run_service(functools.partial(serve, settings))


if __name__ == "__main__":
    main()
