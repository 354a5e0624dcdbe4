"""The service's wiring without infrastructure: topics, names, and giving up connecting on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_features.service import channels, connect, consumer_name
from kestrel_features.settings import FeaturesSettings


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_topics_are_the_registry_channels_under_the_configured_names() -> None:
    bars, vectors = channels(FeaturesSettings(bars_topic="t.bars", vectors_topic="t.vectors"))
    assert (bars.name, bars.message_type, bars.key) == ("t.bars", Bar, "symbol")
    assert (vectors.name, vectors.message_type, vectors.key) == ("t.vectors", FeatureVector, "symbol")
    assert bars.dlq.name == "t.bars.dlq"


def test_by_default_the_topics_are_the_registry_s_in_the_deployment_s_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KESTREL_CHANNEL_NAMESPACE", raising=False)
    assert [c.name for c in channels(FeaturesSettings())] == ["market.bars", "features.vectors"]
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", "run42")
    assert [c.name for c in channels(FeaturesSettings())] == ["run42.market.bars", "run42.features.vectors"]


def test_the_consumer_is_named_after_host_and_process_unless_configured() -> None:
    assert consumer_name(FeaturesSettings()).endswith(f"-{os.getpid()}")
    assert consumer_name(FeaturesSettings(consumer_name="features-0")) == "features-0"


async def test_connecting_to_absent_dependencies_retries_and_gives_up_on_stop() -> None:
    port = _dead_port()
    settings = FeaturesSettings(
        database_url=f"postgresql://kestrel:kestrel@127.0.0.1:{port}/kestrel",
        redis_url=f"redis://127.0.0.1:{port}/0",
        kafka_bootstrap=f"127.0.0.1:{port}",
    )
    stop = asyncio.Event()
    attempt = asyncio.create_task(connect(settings, "test", stop))
    await asyncio.sleep(0.5)
    assert not attempt.done()  # still retrying: the service stays up, /ready says what is missing
    stop.set()
    assert await asyncio.wait_for(attempt, 5) is None
