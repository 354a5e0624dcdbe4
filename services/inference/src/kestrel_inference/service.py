"""The running service: model holder, HTTP server, and the features.vectors -> trading.signals consumer.

`serve(settings, stop)` is what `python -m kestrel_inference` runs (and what the integration test
runs in-process). The HTTP server comes up first and stays up. The alias poller starts at once;
consuming starts only after the first model is loaded, so before that vectors wait in Kafka (the
group's offsets do not move) — never scored without a model, never dropped — while /ready names the
missing model. Kafka is retried until it answers or SIGTERM arrives. On SIGTERM the vector in hand is
finished and committed, then the producer is flushed and the poller stopped.
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
from kestrel_inference.settings import InferenceSettings
from kestrel_messaging import ConsumerOptions
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe, mlflow_probe

_log = get_logger("kestrel.inference")
RETRY_CONNECT_S = 2.0


def infrastructure_checks(settings: InferenceSettings) -> dict[str, ReadinessCheck]:
    """The infrastructure this service needs: Kafka and MLflow (what deploy manifests wait for)."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "mlflow": mlflow_probe(settings.mlflow_tracking_uri),
    }


def readiness_checks(settings: InferenceSettings, holder: ModelHolder) -> dict[str, ReadinessCheck]:
    """What /ready checks: the infrastructure, and that a model is loaded."""
    return {**infrastructure_checks(settings), "model": holder.readiness}


def consumer_name(settings: InferenceSettings) -> str:
    return settings.consumer_name or f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"


def policy(settings: InferenceSettings) -> SignalPolicy:
    return SignalPolicy(
        Thresholds(settings.buy_threshold, settings.sell_threshold),
        settings.strategy_id,
        settings.volatility_feature,
    )


async def _connect(settings: InferenceSettings, name: str, stop: asyncio.Event) -> KafkaBus | None:
    """A bus whose topics exist, retrying until Kafka answers; None when stopped first."""
    while not stop.is_set():
        bus = KafkaBus(settings.kafka_bootstrap, client_id=name)
        try:
            for topic in (channel("features.vectors"), channel("trading.signals")):
                await bus.ensure_channel(topic)
            return bus
        except Exception as exc:  # Kafka unreachable: /ready already says so
            await bus.close()
            _log.warning("kafka.unavailable", error=repr(exc), retry_in_s=RETRY_CONNECT_S)
        await sleep_or_stop(stop, RETRY_CONNECT_S)
    return None


async def consume(settings: InferenceSettings, holder: ModelHolder, stop: asyncio.Event) -> None:
    """Score features.vectors into trading.signals until `stop`, once a model is loaded."""
    if await holder.wait_loaded(stop) is None:
        return
    name = consumer_name(settings)
    bus = await _connect(settings, name, stop)
    if bus is None:
        return
    try:
        handler = SignalsHandler(holder, bus, channel("trading.signals"), policy(settings))
        options = ConsumerOptions(
            max_attempts=settings.max_attempts, retry_backoff_s=settings.retry_backoff_s
        )
        subscription = bus.subscribe(
            channel("features.vectors"), group=settings.consumer_group, consumer=name, options=options
        )
        _log.info("consumer.started", group=settings.consumer_group, consumer=name)
        await subscription.run(handler, stop)
    finally:
        await bus.close()


async def serve(settings: InferenceSettings, stop: asyncio.Event) -> None:
    holder = ModelHolder(
        MlflowModelSource(settings.mlflow_tracking_uri), settings.model_name, settings.model_alias
    )
    server = InferenceHttpServer(
        settings.http_host,
        settings.http_port,
        readiness_checks(settings, holder),
        holder=holder,
        thresholds=policy(settings).thresholds,
    )
    async with server:
        _log.info("service.started", port=server.port, model=holder.uri)
        poller = asyncio.create_task(holder.run(stop, settings.reload_interval_s))
        try:
            await consume(settings, holder, stop)
        finally:
            stop.set()  # the consumer may have returned on its own; the poller must end with it
            with contextlib.suppress(asyncio.CancelledError):
                await poller
