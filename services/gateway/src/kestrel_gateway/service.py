"""The running gateway: open the store pool, Redis and Kafka, serve the API with uvicorn on one port
(/health, /ready, /metrics included), and feed /ws from Kafka, until SIGTERM.

uvicorn is run as a server object inside the service's own event loop (not `uvicorn.run`), so the
platform's run loop keeps owning signals: SIGTERM sets `stop`, which tells uvicorn to stop accepting,
finish in-flight requests and close WebSockets, then the feed consumer and connections are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator, Mapping

import asyncpg
import redis.asyncio as aioredis
import uvicorn

from kestrel_gateway.adapters.feed_consumer import consume_feed
from kestrel_gateway.app import create_app
from kestrel_gateway.live_feed import LiveFeed
from kestrel_gateway.runtime import GatewayRuntime
from kestrel_gateway.settings import GatewaySettings
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe, postgres_probe, redis_probe
from kestrel_store.pool import create_pool

__all__ = ["GatewayServer", "readiness_checks", "serve"]

_log = get_logger("kestrel.gateway")
GRACEFUL_SHUTDOWN_S = 10
RETRY_CONNECT_S = 2.0


def readiness_checks(settings: GatewaySettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "redis": redis_probe(settings.redis_url),
        "postgres": postgres_probe(settings.database_url),
    }


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Signals belong to the service's run loop (kestrel_platform.lifecycle), which sets `stop`.
        yield


class GatewayServer:
    """uvicorn serving `app` on a socket bound up front, so port 0 (tests) has a known real port."""

    def __init__(self, runtime: GatewayRuntime) -> None:
        settings = runtime.settings
        self._socket = socket.create_server((settings.http_host, settings.http_port))
        config = uvicorn.Config(
            create_app(runtime),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            ws_ping_interval=20.0,
        )
        self._server = _EmbeddedServer(config)
        self.port: int = self._socket.getsockname()[1]

    async def run(self, stop: asyncio.Event) -> None:
        task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        try:
            await asyncio.wait(
                {task, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            self._server.should_exit = True
            await task


def _and_pool_open(runtime: GatewayRuntime, check: ReadinessCheck) -> ReadinessCheck:
    """PostgreSQL answers AND this process's pool is open (requests need the pool, not just the server)."""

    async def both() -> None:
        await check()
        if runtime.store is None:
            raise RuntimeError("PostgreSQL answers but the gateway's pool is not open yet")

    return both


async def _connect_store(runtime: GatewayRuntime, stop: asyncio.Event) -> None:
    """Open the pool, retrying until PostgreSQL answers or `stop` is set (/ready names it meanwhile)."""
    settings = runtime.settings
    while not stop.is_set():
        try:
            runtime.store = await create_pool(
                settings.database_url, application_name="kestrel-gateway", min_size=1, max_size=10
            )
            return
        except (OSError, asyncpg.PostgresError) as exc:
            _log.warning("store.unavailable", error=repr(exc), retry_in_s=RETRY_CONNECT_S)
        await sleep_or_stop(stop, RETRY_CONNECT_S)


async def serve(
    settings: GatewaySettings, stop: asyncio.Event, *, readiness: Mapping[str, ReadinessCheck] | None = None
) -> None:
    redis_client = aioredis.Redis.from_url(settings.redis_url)
    bus = KafkaBus(settings.kafka_bootstrap, client_id="kestrel-gateway")
    feed = LiveFeed(settings.gateway_ws_queue_size)
    checks = dict(readiness or readiness_checks(settings))
    runtime = GatewayRuntime(settings, None, redis_client, bus, feed, checks)
    if "postgres" in checks:
        runtime.readiness = {**checks, "postgres": _and_pool_open(runtime, checks["postgres"])}
    server = GatewayServer(runtime)
    _log.info("service.started", host=settings.http_host, port=server.port)
    background = [
        asyncio.create_task(_connect_store(runtime, stop)),
        asyncio.create_task(
            consume_feed(settings.kafka_bootstrap, feed, settings.gateway_ws_group_prefix, stop)
        ),
    ]
    try:
        await server.run(stop)
    finally:
        stop.set()  # the server may have ended on its own; the background work must end with it
        await asyncio.gather(*background, return_exceptions=True)
        await bus.close()
        await redis_client.aclose()
        if runtime.store is not None:
            await runtime.store.close()
