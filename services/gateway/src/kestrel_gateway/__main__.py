"""`python -m kestrel_gateway`: the gateway service process.

Wiring only: settings, logging, tracing, the /health, /ready and /metrics server, the run loop. At
this stage the service serves those endpoints, with /ready checking Kafka, Redis, PostgreSQL, and
waits for SIGTERM; issue #4 fills it in with the FastAPI REST and WebSocket API, API keys and rate
limiting.
"""

from __future__ import annotations

import asyncio

from kestrel_gateway.settings import GatewaySettings
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.probes import kafka_probe, postgres_probe, redis_probe
from kestrel_platform.service import serve_health_until_stopped, start_service


def readiness_checks(settings: GatewaySettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "redis": redis_probe(settings.redis_url),
        "postgres": postgres_probe(settings.database_url),
    }


async def serve(settings: GatewaySettings, stop: asyncio.Event) -> None:
    await serve_health_until_stopped(settings, readiness_checks(settings), stop)


def main() -> None:
    start_service(GatewaySettings, "kestrel-gateway", serve)


if __name__ == "__main__":
    main()
