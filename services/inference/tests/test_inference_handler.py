"""The consumer on the in-memory bus, and the model holder's load / reload / keep-on-failure rules."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter
from kestrel_contracts.v1.signal_pb2 import Signal, SignalAction
from kestrel_inference.domain import Thresholds
from kestrel_inference.handlers import SignalPolicy, SignalsHandler
from kestrel_inference.model_registry import ModelHolder
from kestrel_inference.sources import ModelSignalSource
from kestrel_inference.testing import FEATURE_SET, FakeModelSource, feature_vector, mean_model
from kestrel_messaging import ConsumerOptions, Delivery, InMemoryBus
from kestrel_platform.tracing import get_tracer

VECTORS, SIGNALS = channel("features.vectors"), channel("trading.signals")
POLICY = SignalPolicy(Thresholds(buy=0.6, sell=0.4), "test-strategy", "rv_20")


def model_source(holder: ModelHolder) -> ModelSignalSource:
    return ModelSignalSource(holder, POLICY.thresholds, POLICY.strategy_id, POLICY.volatility_feature)


async def _until(condition: Callable[[], object], timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout_s}s")


async def test_wrong_version_goes_to_the_dlq_with_the_reason_and_the_next_vector_is_scored() -> None:
    bus = InMemoryBus()
    for topic in (VECTORS, SIGNALS):
        await bus.ensure_channel(topic)
    holder = ModelHolder(FakeModelSource({"2": mean_model("2")}, alias_to="2"), "test-direction", "live")
    assert await holder.refresh()
    handler = SignalsHandler(model_source(holder), bus, SIGNALS)
    await bus.publish(VECTORS, feature_vector(0.9, feature_set_version="fs-old"))
    good = feature_vector(0.9, symbol="ETH/USDT")
    await bus.publish(VECTORS, good)
    stop = asyncio.Event()
    task = asyncio.create_task(
        bus.subscribe(VECTORS, group="inference", consumer="c1", options=ConsumerOptions(max_attempts=2)).run(
            handler, stop
        )
    )
    try:
        await _until(lambda: bus.records(SIGNALS) and bus.records(VECTORS.dlq))
    finally:
        stop.set()
        await task
    [dead] = [DeadLetter.FromString(r.data) for r in bus.records(VECTORS.dlq)]
    assert "fs-old" in dead.error_message and FEATURE_SET in dead.error_message
    assert dead.error_type == "FeatureSetMismatchError"
    [record] = bus.records(SIGNALS)
    signal = Signal.FromString(record.data)
    assert record.key == "ETH/USDT"
    assert signal.source_feature_event_id == good.event_id
    assert signal.action == SignalAction.SIGNAL_ACTION_BUY
    assert (signal.model_name, signal.model_version) == ("test-direction", "2")


async def test_a_redelivered_vector_gives_the_same_signal_id() -> None:
    bus = InMemoryBus()
    await bus.ensure_channel(SIGNALS)
    holder = ModelHolder(FakeModelSource({"1": mean_model()}, alias_to="1"), "test-direction", "live")
    await holder.refresh()
    handler = SignalsHandler(model_source(holder), bus, SIGNALS)
    vector = feature_vector(0.2)
    for attempt in (1, 2):
        await handler(Delivery(VECTORS, vector, vector.symbol, {}, b"", "0", attempt))
    first, second = (Signal.FromString(r.data) for r in bus.records(SIGNALS))
    assert first.event_id == second.event_id and first.action == SignalAction.SIGNAL_ACTION_SELL


async def test_holder_without_a_model_is_not_ready_and_says_why() -> None:
    holder = ModelHolder(FakeModelSource(), "test-direction", "live")
    assert not await holder.refresh()
    assert holder.current is None
    with pytest.raises(
        RuntimeError, match=r"no model loaded from models:/test-direction@live yet: LookupError"
    ):
        await holder.readiness()


async def test_alias_move_swaps_the_model_and_a_failed_reload_keeps_the_old_one() -> None:
    source = FakeModelSource({"1": mean_model("1"), "2": mean_model("2")}, alias_to="1")
    holder = ModelHolder(source, "test-direction", "live")
    assert await holder.refresh()
    await holder.readiness()
    assert not await holder.refresh()  # same version: nothing loaded again
    assert source.loads == ["1"]
    source.alias_to = "2"
    source.fail = ConnectionError("registry down")
    assert not await holder.refresh()
    assert holder.current is not None and holder.current.version == "1"
    assert holder.last_error is not None and "registry down" in holder.last_error
    source.fail = None
    assert await holder.refresh()
    assert holder.current.version == "2" and holder.last_error is None


async def test_poller_loads_the_first_model_when_it_appears_and_follows_the_alias() -> None:
    source = FakeModelSource({"1": mean_model("1"), "2": mean_model("2")})
    holder = ModelHolder(source, "test-direction", "live")
    stop = asyncio.Event()
    poller = asyncio.create_task(holder.run(stop, 0.02))
    waiter = asyncio.create_task(holder.wait_loaded(stop))
    try:
        await asyncio.sleep(0.1)
        assert holder.current is None and not waiter.done()
        source.alias_to = "1"
        loaded = await asyncio.wait_for(waiter, 2)
        assert loaded is not None and loaded.version == "1"
        source.alias_to = "2"
        await _until(lambda: holder.current is not None and holder.current.version == "2")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(poller, 2)


@pytest.mark.usefixtures("tracing")
async def test_the_signal_continues_the_vectors_trace() -> None:
    bus = InMemoryBus()
    for topic in (VECTORS, SIGNALS):
        await bus.ensure_channel(topic)
    holder = ModelHolder(FakeModelSource({"1": mean_model()}, alias_to="1"), "test-direction", "live")
    await holder.refresh()
    with get_tracer("test").start_as_current_span("bar") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        await bus.publish(VECTORS, feature_vector(0.5))
    stop = asyncio.Event()
    subscription = bus.subscribe(VECTORS, group="inference", consumer="c1")
    task = asyncio.create_task(subscription.run(SignalsHandler(model_source(holder), bus, SIGNALS), stop))
    try:
        await _until(lambda: bus.records(SIGNALS))
    finally:
        stop.set()
        await task
    [record] = bus.records(SIGNALS)
    assert record.headers["traceparent"].split("-")[1] == trace_id
