"""`python -m kestrel_risk`: the risk service process.

Wiring only: settings, logging, tracing, the /health, /ready and /metrics server, the run loop. At
this stage the service serves those endpoints, with /ready checking Kafka, Redis, PostgreSQL, and
waits for SIGTERM; issue #4 fills it in with sizing and the pre-trade checks that turn
`trading.signals` into orders on the Redis Stream `execution.orders`, the kill switch, and positions
from `execution.reports`.
"""

from __future__ import annotations

import asyncio

from kestrel_platform.health import ReadinessCheck
from kestrel_platform.probes import kafka_probe, postgres_probe, redis_probe
from kestrel_platform.service import serve_health_until_stopped, start_service
from kestrel_risk.settings import RiskSettings


def readiness_checks(settings: RiskSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "redis": redis_probe(settings.redis_url),
        "postgres": postgres_probe(settings.database_url),
    }


async def serve(settings: RiskSettings, stop: asyncio.Event) -> None:
    await serve_health_until_stopped(settings, readiness_checks(settings), stop)


def main() -> None:
    start_service(RiskSettings, "kestrel-risk", serve)


if __name__ == "__main__":
    main()
