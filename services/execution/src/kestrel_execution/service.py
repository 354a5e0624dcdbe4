"""The running service: execution.orders (Redis stream) + market.bars (Kafka) -> execution.reports.

Idempotency and crash safety, end to end:
- An order is identified by its client_order_id. Redis `order:idem:{id}` (SET NX, TTL) is the fast
  path; whenever it says "seen", PostgreSQL decides (trading.orders UNIQUE client_order_id), and
  the insert is ON CONFLICT DO NOTHING, so a redelivered or concurrently reclaimed entry never
  trades twice — also after a crash between the Redis SET and the commit.
- Every state change is ONE transaction: trading.orders (incl. the paper working state), its fills
  (deterministic fill id and time from the bar, ON CONFLICT DO NOTHING), trading.positions, and an
  outbox row holding the exact ExecutionReport (per-order sequence, derived event_id).
- Then the report is published to Kafka inside the handler's span, the outbox row is stamped, and
  only then is the stream entry acked / the bar offset committed. A crash after the commit leaves
  an unstamped row: it is re-published at startup, by the periodic sweep, or at once when the order
  is redelivered. Reports are at-least-once with stable ids; the state is exactly once.
- Working orders live only in PostgreSQL and are locked (FOR UPDATE) per venue event or bar, so a
  restart, or a second replica, continues them; a redelivered bar is a no-op (last_bar_open_ns), a
  repeated trade is dropped by its fill id.
- An order is stored before it goes to the venue; one whose submit was never answered is asked
  about by client order id before it is ever re-sent (`kestrel_execution.resolver`).
- The kill switch and the production controller's board (both Redis state, prompted by ops.commands)
  refuse new orders and cancel working ones (the board per account: stopped or halted); both are
  checked again before every bar is applied (`kestrel_execution.controller`).
- A consumer that dies holding stream entries loses them to a live one after `reclaim_idle_ms`.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass, replace

import asyncpg

from kestrel_contracts.registry import Transport, channel
from kestrel_execution.commands import CommandsHandler
from kestrel_execution.controller import Controller
from kestrel_execution.handlers import ExecutionContext, OrdersHandler
from kestrel_execution.idempotency import RedisIdempotency
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.parents import ParentRunner
from kestrel_execution.reconciler import Reconciler, run_reconciler
from kestrel_execution.repository import PostgresExecutionStore
from kestrel_execution.resolver import run_resolver
from kestrel_execution.settings import ExecutionSettings
from kestrel_execution.venue import Venue, VenueRuntime
from kestrel_messaging import ConsumerOptions, TransportRouter
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.redis_streams import RedisStreamBus
from kestrel_platform.control_events import Halter
from kestrel_platform.control_store import RedisControl
from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.kill_switch import KillSwitch
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe, postgres_probe, redis_probe
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_trading.catalog import load_catalog

_log = get_logger("kestrel.execution")
RETRY_CONNECT_S = 2.0


def readiness_checks(settings: ExecutionSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "redis": redis_probe(settings.redis_url),
        "postgres": postgres_probe(settings.database_url),
    }


def consumer_name(settings: ExecutionSettings) -> str:
    return settings.consumer_name or f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"


@dataclass(slots=True)
class Connections:
    pool: asyncpg.Pool
    streams: RedisStreamBus
    kafka: KafkaBus

    async def close(self) -> None:
        await self.kafka.close()
        await self.streams.close()
        await self.pool.close()


async def _connect_once(settings: ExecutionSettings, name: str) -> Connections:
    pool = await create_pool(settings.database_url, application_name=name, min_size=1, max_size=4)
    connections = Connections(
        pool, RedisStreamBus(settings.redis_url), KafkaBus(settings.kafka_bootstrap, client_id=name)
    )
    try:
        await apply_migrations(pool)
        await connections.streams.ensure_channel(channel("execution.orders"))
        topics = ("market.bars", "execution.reports", "ops.commands", "audit.logs")
        for topic in map(channel, topics):
            await connections.kafka.ensure_channel(topic)
    except BaseException:
        await connections.close()
        raise
    return connections


async def connect(settings: ExecutionSettings, name: str, stop: asyncio.Event) -> Connections | None:
    """Connect to PostgreSQL, Redis and Kafka, retrying until they answer; None when stopped first."""
    while not stop.is_set():
        try:
            return await _connect_once(settings, name)
        except Exception as exc:  # a dependency is down: /ready already says which
            _log.warning("dependencies.unavailable", error=repr(exc), retry_in_s=RETRY_CONNECT_S)
        await sleep_or_stop(stop, RETRY_CONNECT_S)
    return None


async def _until_first_failure(stop: asyncio.Event, *workers: asyncio.Task[None]) -> None:
    """Await every worker; when one fails, stop the others (they drain) and re-raise."""
    done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
    failed = [task for task in done if not task.cancelled() and task.exception() is not None]
    if failed:
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        raise failed[0].exception()  # type: ignore[misc]


async def consume(
    settings: ExecutionSettings, venue: Venue, connections: Connections, stop: asyncio.Event
) -> None:
    name = consumer_name(settings)
    store = PostgresExecutionStore(connections.pool)
    router = TransportRouter(
        {Transport.KAFKA: connections.kafka, Transport.REDIS_STREAM: connections.streams}
    )
    outbox = ReportOutbox(store, router, channel("execution.reports"))
    republished = await outbox.flush()  # what a crash left unpublished goes out before anything new
    if republished:
        _log.warning("outbox.republished_at_startup", count=republished)
    # The board lives in the same Redis as the kill switch; halts are announced on Kafka ops.commands.
    control = RedisControl(connections.streams.client)
    halter = Halter(control, connections.kafka, settings.service_name)
    context = ExecutionContext(
        store=store,
        outbox=outbox,
        venue=venue,
        catalog=load_catalog(settings.instruments_file),
        kill_switch=KillSwitch(connections.streams.client),
        default_timeframe=settings.default_timeframe,
        default_fee_asset=settings.default_fee_asset,
        controller=Controller(control, halter, venue_error_halt_after=settings.venue_error_halt_after),
    )
    options = ConsumerOptions(
        max_attempts=settings.max_attempts,
        retry_backoff_s=settings.retry_backoff_s,
        reclaim_idle_ms=settings.reclaim_idle_ms,
        batch_size=settings.orders_batch_size,
    )
    orders = connections.streams.subscribe(
        channel("execution.orders"), group=settings.consumer_group, consumer=name, options=options
    )
    # Only commands from now on: the kill switch's and the board's state is in Redis, old commands add
    # nothing to it.
    commands = connections.kafka.subscribe(
        channel("ops.commands"),
        group=settings.commands_consumer_group,
        consumer=name,
        options=replace(options, start_from_beginning=False),
    )
    idempotency = RedisIdempotency(connections.streams.client, settings.idempotency_ttl_s)
    _log.info("consumers.started", orders_group=settings.consumer_group, venue=venue.name)
    feeds = venue.tasks(VenueRuntime(context, connections.kafka, name, options), stop)
    await _until_first_failure(
        stop,
        asyncio.create_task(orders.run_batches(OrdersHandler(context, idempotency), stop)),
        asyncio.create_task(commands.run(CommandsHandler(context), stop)),
        asyncio.create_task(outbox.sweep(stop, settings.outbox_sweep_interval_s)),
        asyncio.create_task(
            run_resolver(
                context,
                stop,
                interval_s=settings.resolve_interval_s,
                pending_for_s=settings.resolve_pending_after_s,
            )
        ),
        asyncio.create_task(
            run_reconciler(
                Reconciler(context, connections.kafka),
                stop,
                settings.reconcile_interval_s,
            )
        ),
        asyncio.create_task(ParentRunner(context).run(stop, settings.parents_interval_s)),
        *(asyncio.create_task(feed) for feed in feeds),
    )


async def serve(settings: ExecutionSettings, stop: asyncio.Event, venue: Venue) -> None:
    """/health, /ready, /metrics and the consumers until `stop` (then in-flight work is finished)."""
    async with HealthServer(settings.http_host, settings.http_port, readiness_checks(settings)):
        _log.info("service.started", port=settings.http_port, venue=venue.name)
        name = consumer_name(settings)
        connections = await connect(settings, name, stop)
        if connections is None:
            return
        try:
            await consume(settings, venue, connections, stop)
        finally:
            await connections.close()
