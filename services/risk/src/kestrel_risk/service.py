"""The running service: health server, state rebuilt from PostgreSQL, and three consumers.

`serve(settings, stop)` is what `python -m kestrel_risk` runs (and what the integration tests run
in-process). The HTTP server comes up first. PostgreSQL is then retried until it answers; the
configured account is upserted and positions are rebuilt from trading.fills, so a restart forgets
nothing. Then, concurrently until SIGTERM: trading.signals (batched) -> decisions and orders,
ops.commands -> manual orders and kill-switch audits, execution.reports -> fills into the book.
One instance per account: the book is in-process state, fed by every partition of the reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import redis.asyncio as aioredis

from kestrel_contracts.registry import channel
from kestrel_messaging import ConsumerOptions, Subscription, TransportRouter, connect
from kestrel_platform.control_events import Halter
from kestrel_platform.control_store import RedisControl
from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.kill_switch import KillSwitch
from kestrel_platform.lifecycle import retry_until_stopped
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe, postgres_probe, redis_probe
from kestrel_risk import metrics
from kestrel_risk.controls import DrawdownBreaker, RiskControls, StaleDataWatch
from kestrel_risk.fill_wait import FillWait
from kestrel_risk.handlers import (
    CommandsHandler,
    DecisionPublisher,
    ReportsHandler,
    RiskChannels,
    SignalsHandler,
)
from kestrel_risk.settings import RiskSettings
from kestrel_risk.store import Account, PostgresRiskStore
from kestrel_riskengine.book import RiskBook
from kestrel_riskengine.engine import RiskEngine
from kestrel_riskengine.sizing import SizingPolicy
from kestrel_store.pool import create_pool
from kestrel_trading.catalog import load_catalog

_log = get_logger("kestrel.risk")
_CHANNELS = ("trading.signals", "execution.reports", "ops.commands", "risk.decisions", "audit.logs")


def readiness_checks(settings: RiskSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "redis": redis_probe(settings.redis_url),
        "postgres": postgres_probe(settings.database_url),
    }


def consumer_name(settings: RiskSettings) -> str:
    return settings.risk_consumer_name or f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"


def build_engine(settings: RiskSettings) -> RiskEngine:
    sizing = SizingPolicy(
        settings.risk_sizing_method,
        settings.risk_sizing_fraction,
        settings.risk_target_annual_vol,
        settings.risk_bars_per_year,
        settings.risk_max_leverage,
    )
    return RiskEngine(
        RiskBook(settings.risk_initial_cash),
        load_catalog(settings.instruments_file),
        settings.limits(),
        sizing,
        account=settings.risk_account,
        allow_short=settings.risk_allow_short,
        service=settings.service_name,
        await_signal_orders=not settings.algorithm().is_parent,
    )


async def rebuild(engine: RiskEngine, store: PostgresRiskStore) -> int:
    """Apply every stored fill of the account and reload its working orders; returns fills new to the book."""
    applied = 0
    for fill in await store.fills(engine.account):
        if engine.book.apply_fill(fill):
            applied += 1
    for order in await store.working_orders(engine.account):
        engine.book.add_working(order)
    metrics.FILLS_APPLIED.labels("store").inc(applied)
    metrics.EQUITY.set(float(engine.book.equity()))
    return applied


async def _open_bus(settings: RiskSettings) -> TransportRouter:
    bus = connect(settings.kafka_bootstrap, settings.redis_url)
    try:
        for name in _CHANNELS:
            await bus.ensure_channel(channel(name))
        await bus.ensure_channel(channel("execution.orders"))
    except BaseException:
        await bus.close()
        raise
    return bus


async def consume(settings: RiskSettings, stop: asyncio.Event) -> None:
    """Rebuild the book, then run the three consumers until `stop` (or one of them ends)."""
    pool = await retry_until_stopped(
        "postgres", lambda: create_pool(settings.database_url, application_name="risk"), stop
    )
    if pool is None:
        return
    redis_client = aioredis.from_url(settings.redis_url)
    bus: TransportRouter | None = None
    try:
        store = PostgresRiskStore(pool)
        engine = build_engine(settings)
        account = Account(settings.risk_account, settings.risk_initial_cash, settings.risk_quote_asset)
        await store.upsert_account(account)
        applied = await rebuild(engine, store)
        _log.info("book.rebuilt", account=engine.account, fills=applied, equity=str(engine.book.equity()))
        bus = await retry_until_stopped("kafka", lambda: _open_bus(settings), stop)
        if bus is None:
            return
        control = RedisControl(redis_client)
        halter = Halter(control, bus, settings.service_name)
        controls = RiskControls(
            control,
            DrawdownBreaker(engine, halter, enabled=settings.risk_halt_on_drawdown),
            StaleDataWatch(engine.account, halter, settings.risk_stale_data_after_s),
        )
        await _run_consumers(
            settings, engine, store, bus, kill_switch=KillSwitch(redis_client), controls=controls, stop=stop
        )
    finally:
        if bus is not None:
            await bus.close()
        await redis_client.aclose()
        await pool.close()


async def _run_consumers(
    settings: RiskSettings,
    engine: RiskEngine,
    store: PostgresRiskStore,
    bus: TransportRouter,
    *,
    kill_switch: KillSwitch,
    controls: RiskControls,
    stop: asyncio.Event,
) -> None:
    name = consumer_name(settings)
    publisher = DecisionPublisher(bus, RiskChannels.registered(), settings.algorithm())
    options = ConsumerOptions(
        max_attempts=settings.risk_max_attempts,
        retry_backoff_s=settings.risk_retry_backoff_s,
        batch_size=settings.risk_batch_size,
    )

    def subscribe(topic: str, group: str) -> Subscription:
        return bus.subscribe(channel(topic), group=group, consumer=name, options=options)

    # Signals wait for the reports consumer's fills of earlier bars (see fill_wait.py).
    fill_wait = FillWait(engine, settings.risk_fill_wait_s, stop)
    runs = [
        subscribe("execution.reports", settings.risk_reports_group).run(
            ReportsHandler(engine, fill_wait, controls), stop
        ),
        subscribe("trading.signals", settings.risk_signals_group).run_batches(
            SignalsHandler(
                engine,
                store,
                publisher,
                kill_switch,
                fill_wait=fill_wait,
                strategies=settings.strategy_filter(),
                controls=controls,
            ),
            stop,
        ),
        subscribe("ops.commands", settings.risk_commands_group).run(
            CommandsHandler(engine, store, publisher, kill_switch, controls=controls), stop
        ),
    ]
    if controls.stale is not None and settings.risk_stale_data_after_s > 0:
        runs.append(controls.stale.run(controls.board, stop))  # ends only at stop, like the consumers
    tasks = [asyncio.create_task(run) for run in runs]
    _log.info(
        "consumers.started",
        consumer=name,
        account=engine.account,
        strategies=settings.risk_strategies or "all",
    )
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()  # one consumer ending (or failing) ends them all: the process restarts whole
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def serve(settings: RiskSettings, stop: asyncio.Event) -> None:
    async with HealthServer(settings.http_host, settings.http_port, readiness_checks(settings)):
        _log.info("service.started", port=settings.http_port, account=settings.risk_account)
        await consume(settings, stop)
