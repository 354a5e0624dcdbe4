"""The running service: health server, then the backtest.jobs consumer until SIGTERM.

`serve(settings, stop)` is what `python -m kestrel_backtest` runs (and what the integration tests
run in-process). PostgreSQL and Kafka are retried until they answer. Every instance joins one
consumer group, so instances split the jobs (by partition of the job id). A job runs in a worker
thread, so /health and /metrics answer during a long backtest. On SIGTERM the job in hand is
finished and committed first.
"""

from __future__ import annotations

import asyncio
import os
import socket

from kestrel_backtest.handlers import BacktestChannels, JobsHandler
from kestrel_backtest.report_files import render_all
from kestrel_backtest.settings import BacktestSettings
from kestrel_contracts.registry import channel
from kestrel_messaging import ConsumerOptions
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.lifecycle import retry_until_stopped
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe, postgres_probe
from kestrel_store.pool import create_pool

_log = get_logger("kestrel.backtest")
_CHANNELS = ("backtest.jobs", "backtest.results", "backtest.progress")


def readiness_checks(settings: BacktestSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "postgres": postgres_probe(settings.database_url),
    }


def consumer_name(settings: BacktestSettings) -> str:
    return settings.backtest_consumer_name or f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"


async def _open_bus(settings: BacktestSettings, name: str) -> KafkaBus:
    bus = KafkaBus(settings.kafka_bootstrap, client_id=name)
    try:
        for topic in _CHANNELS:
            await bus.ensure_channel(channel(topic))
    except BaseException:
        await bus.close()
        raise
    return bus


async def consume(settings: BacktestSettings, stop: asyncio.Event) -> None:
    pool = await retry_until_stopped(
        "postgres", lambda: create_pool(settings.database_url, application_name="backtest"), stop
    )
    if pool is None:
        return
    name = consumer_name(settings)
    bus: KafkaBus | None = None
    try:
        bus = await retry_until_stopped("kafka", lambda: _open_bus(settings, name), stop)
        if bus is None:
            return
        handler = JobsHandler(
            pool,
            bus,
            BacktestChannels.registered(),
            worker=name,
            renderer=render_all if settings.backtest_render_reports else None,
            lease_s=settings.backtest_lease_s,
        )
        options = ConsumerOptions(
            max_attempts=settings.backtest_max_attempts,
            retry_backoff_s=settings.backtest_retry_backoff_s,
            batch_size=1,  # one job at a time: a fetched job waits for none before it
        )
        subscription = bus.subscribe(
            channel("backtest.jobs"), group=settings.backtest_group, consumer=name, options=options
        )
        _log.info("consumer.started", consumer=name, group=settings.backtest_group)
        await subscription.run(handler, stop)
    finally:
        if bus is not None:
            await bus.close()
        await pool.close()


async def serve(settings: BacktestSettings, stop: asyncio.Event) -> None:
    async with HealthServer(settings.http_host, settings.http_port, readiness_checks(settings)):
        _log.info("service.started", port=settings.http_port)
        await consume(settings, stop)
