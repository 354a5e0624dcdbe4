"""Fixtures of the execution integration tests (the rig is `kestrel_execution.testing_harness`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from kestrel_contracts.registry import channel
from kestrel_execution.settings import ExecutionSettings
from kestrel_execution.testing_harness import Harness
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.redis_streams import RedisStreamBus


@pytest.fixture
async def harness(
    redis_url: str,
    kafka_bootstrap: str,
    fresh_database_url: str,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-execution-{unique}")
    settings = ExecutionSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        database_url=fresh_database_url,
        consumer_group=f"execution-{unique}",
        bars_consumer_group=f"execution-paper-{unique}",
        outbox_sweep_interval_s=1.0,
        paper_slippage_bps=Decimal(0),  # fill prices below are the bar opens themselves
    )
    kafka = KafkaBus(kafka_bootstrap, client_id=f"test-{unique}")
    streams = RedisStreamBus(redis_url)
    for topic in (channel("market.bars"), channel("execution.reports")):
        await kafka.ensure_channel(topic)
    h = Harness(settings, kafka, streams)
    stop = asyncio.Event()
    collector = asyncio.create_task(
        kafka.subscribe(channel("execution.reports"), group=f"test-{unique}", consumer="t").run(
            h.collect, stop
        )
    )
    try:
        yield h
    finally:
        if h._service is not None:
            await h.stop()
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(collector, 30)
        await kafka.close()
        await streams.close()
