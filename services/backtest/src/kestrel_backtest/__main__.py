"""`python -m kestrel_backtest`: the backtest service process.

Wiring only: settings, logging, tracing, the /health, /ready and /metrics server, the run loop. At
this stage the service serves those endpoints, with /ready checking Kafka, PostgreSQL, and waits for
SIGTERM; issue #4 fills it in with the `backtest.jobs` consumer, the backtests themselves and
`backtest.runs`.
"""

from __future__ import annotations

import asyncio

from kestrel_backtest.settings import BacktestSettings
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.probes import kafka_probe, postgres_probe
from kestrel_platform.service import serve_health_until_stopped, start_service


def readiness_checks(settings: BacktestSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "postgres": postgres_probe(settings.database_url),
    }


async def serve(settings: BacktestSettings, stop: asyncio.Event) -> None:
    await serve_health_until_stopped(settings, readiness_checks(settings), stop)


def main() -> None:
    start_service(BacktestSettings, "kestrel-backtest", serve)


if __name__ == "__main__":
    main()
