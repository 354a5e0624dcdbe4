"""The running signal service: its signal source, HTTP server, and the input -> trading.signals consumer.

`serve(settings, stop)` is what `python -m kestrel_inference` runs (and what the integration test
runs in-process). The source is a registered model (features.vectors in) or a catalogue strategy
(market.bars in), by `KESTREL_SIGNAL_SOURCE`. The HTTP server comes up first and stays up. A model
source's alias poller starts at once; consuming starts only after the first model is loaded, so
before that vectors wait in Kafka (the group's offsets do not move) — never scored without a model,
never dropped — while /ready names the missing model. Kafka is retried until it answers or SIGTERM
arrives. On SIGTERM the input in hand is finished and committed, then the producer is flushed and
the source's background work stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

from kestrel_contracts.registry import channel
from kestrel_inference.domain import Thresholds
from kestrel_inference.handlers import SignalPolicy, SignalsHandler
from kestrel_inference.http_api import InferenceHttpServer
from kestrel_inference.model_registry import MlflowModelSource, ModelHolder
from kestrel_inference.reference_feed import store_reference
from kestrel_inference.settings import InferenceSettings
from kestrel_inference.sources import ModelSignalSource, SignalSource
from kestrel_inference.strategy_source import StrategySignalSource, store_history
from kestrel_inference.vector_window import StoreVectorHistory, VectorWindows
from kestrel_messaging import ConsumerOptions
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.control import Process
from kestrel_platform.control_gate import ProcessGate
from kestrel_platform.control_store import RedisControl
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_platform.model_catalogue import ModelCatalogue
from kestrel_platform.probes import kafka_probe, mlflow_probe, postgres_probe
from kestrel_store.pool import create_pool

_log = get_logger("kestrel.inference")
RETRY_CONNECT_S = 2.0


def infrastructure_checks(settings: InferenceSettings) -> dict[str, ReadinessCheck]:
    """The infrastructure this deployment needs (what deploy manifests wait for): Kafka, and MLflow
    for a model or PostgreSQL (the warm-up history) for a strategy."""
    store = {
        "model": ("mlflow", mlflow_probe(settings.mlflow_tracking_uri)),
        "strategy": ("postgres", postgres_probe(settings.database_url)),
    }[settings.signal_source]
    return {"kafka": kafka_probe(settings.kafka_bootstrap), store[0]: store[1]}


def consumer_name(settings: InferenceSettings) -> str:
    return settings.consumer_name or f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"


def policy(settings: InferenceSettings) -> SignalPolicy:
    return SignalPolicy(
        Thresholds(settings.buy_threshold, settings.sell_threshold),
        settings.strategy_id,
        settings.volatility_feature,
    )


async def _model_source(settings: InferenceSettings, stack: contextlib.AsyncExitStack) -> SignalSource:
    holder = ModelHolder(
        MlflowModelSource(settings.mlflow_tracking_uri, settings.model_feature_set_version.strip()),
        settings.model_name,
        settings.model_alias,
    )
    chosen = policy(settings)
    history = StoreVectorHistory(settings.database_url)  # connects only if a sequence model is served
    stack.push_async_callback(history.close)
    return ModelSignalSource(
        holder,
        chosen.thresholds,
        chosen.strategy_id,
        chosen.volatility_feature,
        reload_interval_s=settings.reload_interval_s,
        windows=VectorWindows(history),
        catalogue=ModelCatalogue(settings.mlflow_tracking_uri),
    )


async def _strategy_source(settings: InferenceSettings, stack: contextlib.AsyncExitStack) -> SignalSource:
    strategy = settings.bound_strategy()
    pool = await create_pool(
        settings.database_url, application_name="kestrel-inference", min_size=1, max_size=2
    )
    stack.push_async_callback(pool.close)
    return StrategySignalSource(
        strategy,
        timeframe=settings.strategy_timeframe,
        long_only=not settings.strategy_allow_short,
        history=store_history(pool, settings.strategy_history_bars),
        reference=store_reference(
            pool, settings.strategy_reference_symbol.strip(), wait_s=settings.strategy_reference_wait_s
        )
        if strategy.needs_reference
        else None,
    )


# One factory per KESTREL_SIGNAL_SOURCE; past this point nothing asks which kind it has.
SOURCES = {"model": _model_source, "strategy": _strategy_source}


async def _connect(
    settings: InferenceSettings, name: str, source: SignalSource, stop: asyncio.Event
) -> KafkaBus | None:
    """A bus whose topics exist, retrying until Kafka answers; None when stopped first."""
    while not stop.is_set():
        bus = KafkaBus(settings.kafka_bootstrap, client_id=name)
        try:
            for topic in (channel(source.input_channel), channel("trading.signals")):
                await bus.ensure_channel(topic)
            return bus
        except Exception as exc:  # Kafka unreachable: /ready already says so
            await bus.close()
            _log.warning("kafka.unavailable", error=repr(exc), retry_in_s=RETRY_CONNECT_S)
        await sleep_or_stop(stop, RETRY_CONNECT_S)
    return None


async def consume(settings: InferenceSettings, source: SignalSource, stop: asyncio.Event) -> None:
    """The source's input into trading.signals until `stop`, once the source can decide."""
    if not await source.ready(stop):
        return
    name = consumer_name(settings)
    bus = await _connect(settings, name, source, stop)
    if bus is None:
        return
    control = RedisControl.from_url(settings.redis_url)
    try:
        handler = SignalsHandler(source, bus, channel("trading.signals"))
        gate = ProcessGate(control, Process.SIGNALS)  # paused: hold the input, lose nothing
        options = ConsumerOptions(
            max_attempts=settings.max_attempts, retry_backoff_s=settings.retry_backoff_s, hold=gate.held
        )
        subscription = bus.subscribe(
            channel(source.input_channel), group=settings.consumer_group, consumer=name, options=options
        )
        _log.info(
            "consumer.started", group=settings.consumer_group, consumer=name, input=source.input_channel
        )
        await subscription.run(handler, stop)
    finally:
        await control.aclose()
        await bus.close()


async def serve(settings: InferenceSettings, stop: asyncio.Event) -> None:
    async with contextlib.AsyncExitStack() as stack:
        source = await SOURCES[settings.signal_source](settings, stack)
        checks = {**infrastructure_checks(settings), **source.readiness()}
        server = InferenceHttpServer(settings.http_host, settings.http_port, checks, routes=source.routes())
        async with server:
            _log.info("service.started", port=server.port, source=settings.signal_source)
            background = asyncio.create_task(source.run(stop))
            try:
                await consume(settings, source, stop)
            finally:
                stop.set()  # the consumer may have returned on its own; the background must end too
                with contextlib.suppress(asyncio.CancelledError):
                    await background
