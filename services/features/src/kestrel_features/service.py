"""The running service: connections, the handler, the health server and the `market.bars` consumer.

`serve(settings, stop)` is what `python -m kestrel_features` runs (and what tests and the benchmark
run in-process). The health server comes up first and stays up: while PostgreSQL, Redis or Kafka are
unreachable, /health passes, /ready names what is down, and connecting is retried until they answer
or SIGTERM arrives. On SIGTERM the bar in hand is finished and its offset committed, then the
producer is flushed and every connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg

from kestrel_contracts.registry import Channel, channel
from kestrel_featurelib import default_feature_set, psi
from kestrel_features.adapters.redis_online import RedisOnlineStore
from kestrel_features.adapters.sql import SqlBarHistory, SqlOfflineStore
from kestrel_features.catalogue import FeatureCatalogue
from kestrel_features.drift import DriftMonitor
from kestrel_features.handlers import FeaturesHandler, HandlerConfig
from kestrel_features.settings import FeaturesSettings
from kestrel_messaging import ConsumerOptions
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe, postgres_probe, redis_probe
from kestrel_store.pool import create_pool

_log = get_logger("kestrel.features")
T = TypeVar("T")
RETRY_CONNECT_S = 2.0


def readiness_checks(settings: FeaturesSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "redis": redis_probe(settings.redis_url),
        "postgres": postgres_probe(settings.database_url),
    }


def channels(settings: FeaturesSettings) -> tuple[Channel, Channel]:
    """The bars and vectors topics: the registry's (namespaced), or renamed when the settings say so."""
    bars, vectors = channel("market.bars"), channel("features.vectors")
    if settings.bars_topic:
        bars = dataclasses.replace(bars, name=settings.bars_topic)
    if settings.vectors_topic:
        vectors = dataclasses.replace(vectors, name=settings.vectors_topic)
    return bars, vectors


def consumer_name(settings: FeaturesSettings) -> str:
    return settings.consumer_name or f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"


@dataclasses.dataclass
class Connections:
    pool: asyncpg.Pool
    online: RedisOnlineStore
    bus: KafkaBus

    async def close(self) -> None:
        await self.bus.close()  # flushes what the producer still holds
        await self.online.close()
        await self.pool.close()


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """`work`'s result, or None as soon as `stop` is set (the work is then abandoned)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    return None


async def _connect_once(settings: FeaturesSettings, name: str) -> Connections:
    pool = await create_pool(settings.database_url, application_name=name, min_size=1, max_size=4)
    online = RedisOnlineStore.from_url(
        settings.redis_url,
        settings.timeframe,
        vector_prefix=settings.vector_key_prefix,
        state_prefix=settings.state_key_prefix,
    )
    bus = KafkaBus(settings.kafka_bootstrap, client_id=name)
    connections = Connections(pool, online, bus)
    try:
        await online.ping()
        for topic in channels(settings):
            await bus.ensure_channel(topic)
    except BaseException:
        await connections.close()
        raise
    return connections


async def connect(settings: FeaturesSettings, name: str, stop: asyncio.Event) -> Connections | None:
    """Connect to PostgreSQL, Redis and Kafka, retrying until they answer; None when stopped first."""
    while not stop.is_set():
        try:
            return await _unless_stopped(stop, _connect_once(settings, name))
        except Exception as exc:  # any failure to reach a dependency: /ready already says which
            _log.warning("dependencies.unavailable", error=repr(exc), retry_in_s=RETRY_CONNECT_S)
        await sleep_or_stop(stop, RETRY_CONNECT_S)
    return None


def build_handler(
    settings: FeaturesSettings, catalogue: FeatureCatalogue, connections: Connections
) -> FeaturesHandler:
    return FeaturesHandler(
        catalogue,
        bus=connections.bus,
        vectors=channels(settings)[1],
        offline=SqlOfflineStore(connections.pool),
        online=connections.online,
        history=SqlBarHistory(connections.pool),
        config=HandlerConfig(
            settings.timeframe, settings.reference_symbol or None, settings.reference_read_ahead
        ),
        drift=DriftMonitor(
            catalogue.names,
            psi,
            reference_size=settings.drift_reference_size,
            window=settings.drift_window,
            every=settings.drift_every,
        ),
    )


async def serve(settings: FeaturesSettings, stop: asyncio.Event) -> None:
    catalogue = default_feature_set(settings.reference_symbol or None)
    name = consumer_name(settings)
    async with HealthServer(settings.http_host, settings.http_port, readiness_checks(settings)):
        _log.info(
            "service.started",
            port=settings.http_port,
            consumer=name,
            feature_set=catalogue.version,
            features=len(catalogue.names),
            timeframe=settings.timeframe,
        )
        connections = await connect(settings, name, stop)
        if connections is None:
            return
        try:
            handler = build_handler(settings, catalogue, connections)
            await handler.start()
            options = ConsumerOptions(
                max_attempts=settings.max_attempts,
                retry_backoff_s=settings.retry_backoff_s,
                batch_size=settings.consumer_batch_size,
            )
            subscription = connections.bus.subscribe(
                channels(settings)[0], group=settings.consumer_group, consumer=name, options=options
            )
            await subscription.run_batches(handler.handle_batch, stop)
        finally:
            await connections.close()
