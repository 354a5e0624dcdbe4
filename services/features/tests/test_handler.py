"""The handler on fakes: one vector per (symbol, bar), idempotence, ordering, references, DLQ, drift."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence

import pytest
from prometheus_client import REGISTRY

from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_features.catalogue import FeatureCatalogue
from kestrel_features.drift import DriftMonitor
from kestrel_features.ports import SnapshotMarker, StoredVector
from kestrel_features.testing import (
    World,
    delivery,
    expected_values,
    interleave,
    make_series,
    published_by_bar,
    same_tables,
    same_values,
)
from kestrel_messaging import ConsumerOptions, Delivery
from kestrel_platform.tracing import configure_tracing, reset_tracing_for_tests
from kestrel_testing.messaging import consume_until


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_exactly_one_vector_per_symbol_and_bar_past_warm_up(
    catalogue: FeatureCatalogue,
) -> None:
    bars = interleave(*(make_series(s, 10) for s in ("AAA", "BBB", "REF")))
    world = World(catalogue, bars)
    handler = await world.handler()
    emitted_before = _count("features_vectors_emitted_total")

    for bar in bars:
        await handler(delivery(bar))

    expected = expected_values(catalogue, bars, "REF")
    assert len(expected) == 3 * (10 - catalogue.warmup + 1)
    assert same_tables(world.stored_values(), expected)
    published = published_by_bar(world.published(), catalogue.names)
    by_ts = {(b.symbol, b.ts_event): (b.symbol, b.ts_open) for b in bars}
    assert same_tables({by_ts[key]: vectors[0][1] for key, vectors in published.items()}, expected)
    assert all(len(vectors) == 1 for vectors in published.values())
    assert _count("features_vectors_emitted_total") - emitted_before == len(expected)
    for symbol in ("AAA", "BBB", "REF"):
        latest = await world.online.latest_vector(symbol)
        last_bar = max((b for b in bars if b.symbol == symbol), key=lambda b: b.ts_open)
        assert latest is not None
        assert (latest.ts_open, latest.close) == (last_bar.ts_open, last_bar.close)
        assert same_values([latest.values[n] for n in catalogue.names], expected[(symbol, last_bar.ts_open)])


@pytest.mark.parametrize(
    ("batches", "count"),
    [(False, 4), (True, 4), (True, 3)],
    # A batch whose bars make a single vector (the rest still warming up) is its own case.
    ids=["per-bar", "batch", "batch-of-bars-with-one-vector"],
)
async def test_each_vector_is_keyed_by_symbol_and_continues_its_bar_s_trace(
    catalogue: FeatureCatalogue, batches: bool, count: int
) -> None:
    wanted = count - 2  # the test catalogue's first vector comes with the third bar
    configure_tracing("features-tests", None)  # a real SDK, so trace context is injected
    try:
        bars = make_series("AAA", count)
        world = World(catalogue, bars)
        handler = await world.handler()
        await world.bus.publish_batch(world.bars, bars, trace_per_message=True)  # one trace per bar
        subscription = world.bus.subscribe(world.bars, group="features", consumer="c1")
        if batches:
            stop = asyncio.Event()

            async def handle(deliveries: Sequence[Delivery]) -> None:
                await handler.handle_batch(deliveries)
                if len(world.bus.records(world.vectors)) >= wanted:
                    stop.set()

            await asyncio.wait_for(subscription.run_batches(handle, stop), 5)
        else:
            await consume_until(subscription, count, handler=handler)
    finally:
        reset_tracing_for_tests()

    bar_traces = {
        Bar.FromString(r.data).ts_event: _trace_id(r.headers) for r in world.bus.records(world.bars)
    }
    vectors = world.bus.records(world.vectors)
    assert len(vectors) == wanted
    assert all(r.key == "AAA" for r in vectors)
    for record in vectors:
        vector = FeatureVector.FromString(record.data)
        assert _trace_id(record.headers) == bar_traces[vector.ts_event]


def _trace_id(headers: Mapping[str, str]) -> str:
    return headers["traceparent"].split("-")[1]


async def test_a_redelivered_or_older_bar_changes_nothing(
    catalogue: FeatureCatalogue,
) -> None:
    bars = make_series("AAA", 8)
    world = World(catalogue, bars)
    handler = await world.handler()
    for bar in bars:
        await handler(delivery(bar))
    stored, published = world.stored_values(), len(world.published())
    duplicates = _count("features_bars_skipped_total", reason="duplicate")
    older = _count("features_bars_skipped_total", reason="out_of_order")

    await handler(delivery(bars[-1], attempt=2))
    await handler(delivery(bars[3]))

    assert same_tables(world.stored_values(), stored)
    assert len(world.published()) == published
    assert _count("features_bars_skipped_total", reason="duplicate") == duplicates + 1
    assert _count("features_bars_skipped_total", reason="out_of_order") == older + 1
    snapshot = await world.online.marker("AAA")
    assert snapshot == SnapshotMarker(catalogue.version, bars[-1].ts_open)


async def test_bars_of_another_timeframe_are_counted_and_ignored(
    catalogue: FeatureCatalogue,
) -> None:
    hourly = make_series("AAA", 5, timeframe="1h")
    world = World(catalogue, [])
    handler = await world.handler()
    before = _count("features_bars_skipped_total", reason="timeframe")
    for bar in hourly:
        await handler(delivery(bar))
    assert _count("features_bars_skipped_total", reason="timeframe") == before + 5
    assert world.online.snapshots == {} and world.published() == []


async def test_reference_close_comes_from_the_store_when_this_instance_did_not_see_it(
    catalogue: FeatureCatalogue,
) -> None:
    aaa, ref = make_series("AAA", 6), make_series("REF", 6)
    world = World(catalogue, interleave(aaa, ref))  # REF is stored (ingestion), never delivered here
    handler = await world.handler()
    missing = _count("features_reference_missing_total")
    for bar in aaa:
        await handler(delivery(bar))
    expected = expected_values(catalogue, interleave(aaa, ref), "REF")
    assert same_tables(world.stored_values(), {k: v for k, v in expected.items() if k[0] == "AAA"})
    last = world.stored_values()[("AAA", aaa[-1].ts_open)]
    assert all(math.isfinite(value) for value in last[-3:])  # the cross-asset features are defined
    assert _count("features_reference_missing_total") == missing
    assert world.history.lookups <= 2  # read-ahead: one store query serves many bars


async def test_missing_reference_gives_nan_and_is_counted(
    catalogue: FeatureCatalogue,
) -> None:
    aaa = make_series("AAA", 5)
    world = World(catalogue, aaa)
    handler = await world.handler()
    missing = _count("features_reference_missing_total")
    for bar in aaa:
        await handler(delivery(bar))
    assert _count("features_reference_missing_total") == missing + 5
    stored = world.stored_values()
    assert len(stored) == 3
    assert all(math.isnan(values[-1]) and math.isfinite(values[1]) for values in stored.values())
    latest = await world.online.latest_vector("AAA")
    assert latest is not None and math.isnan(latest.values["ref_rs_3"])


async def test_a_bar_that_is_not_valid_goes_to_the_dlq_and_the_rest_is_processed(
    catalogue: FeatureCatalogue,
) -> None:
    bars = make_series("AAA", 4)
    broken = Bar()
    broken.CopyFrom(bars[1])
    broken.close = "not a price"
    world = World(catalogue, bars)
    handler = await world.handler()
    for bar in (bars[0], broken, *bars[1:]):
        await world.bus.publish(world.bars, bar)

    await consume_until(
        world.bus.subscribe(world.bars, group="features", consumer="c1", options=ConsumerOptions()),
        4,  # the good bars; the broken one is dead-lettered, not delivered
        handler=handler,
    )

    letters = world.bus.records(world.bars.dlq)
    assert len(letters) == 1
    letter = DeadLetter.FromString(letters[0].data)
    assert letter.error_type == "PermanentError"
    assert "not a plain decimal" in letter.error_message
    assert len(world.stored_values()) == 2


async def test_a_recomputed_vector_that_differs_from_the_stored_one_is_published_as_stored(
    catalogue: FeatureCatalogue,
) -> None:
    bars = make_series("AAA", 3)
    world = World(catalogue, bars)
    FIRST = tuple(float(i) for i in range(len(catalogue.names)))  # noqa: N806
    first = StoredVector(
        symbol="AAA", timeframe="1d", ts_open=bars[2].ts_open, version=catalogue.version,
        values=FIRST, source_event_id=bars[2].event_id, event_id="first-id",
    )  # fmt: skip
    await world.offline.insert_vector(first)
    mismatches = _count("features_recompute_mismatch_total")
    handler = await world.handler()
    for bar in bars:
        await handler(delivery(bar))
    (vector,) = world.published()
    assert vector.event_id == "first-id"
    assert tuple(vector.values[n] for n in catalogue.names) == FIRST
    assert _count("features_recompute_mismatch_total") == mismatches + 1


async def test_a_stale_consumer_after_a_rebalance_neither_rewinds_nor_publishes_a_different_vector(
    catalogue: FeatureCatalogue,
) -> None:
    bars = make_series("AAA", 8)
    world = World(catalogue, bars)
    old_owner, new_owner = await world.handler(), await world.handler()
    for bar in bars[:5]:
        await old_owner(delivery(bar))
    for bar in bars[5:7]:  # the symbol moved to another consumer, which went on
        await new_owner(delivery(bar))
    await old_owner(delivery(bars[5]))  # the old owner still had bar 5 in its last fetched batch
    await old_owner(delivery(bars[7]))

    assert (await world.online.marker("AAA")) == SnapshotMarker(catalogue.version, bars[7].ts_open)
    expected = expected_values(catalogue, bars, "REF")
    assert same_tables(world.stored_values(), expected)
    for vectors in published_by_bar(world.published(), catalogue.names).values():
        assert all(_equal_vectors(vectors[0], other) for other in vectors)


async def test_drift_gauges_are_set_every_few_vectors(
    catalogue: FeatureCatalogue,
) -> None:
    bars = make_series("AAA", 80)
    world = World(catalogue, bars)

    def psi(reference: object, current: object) -> float:
        return 0.25

    handler = await world.handler(
        drift=DriftMonitor(catalogue.names, psi, reference_size=20, window=20, every=25)
    )
    for bar in bars:
        await handler(delivery(bar))
    assert REGISTRY.get_sample_value("feature_drift_psi", {"feature": "sma_3"}) == 0.25


async def test_the_feature_set_is_registered_once_at_start(catalogue: FeatureCatalogue) -> None:
    world = World(catalogue, [])
    await world.handler()
    await world.handler()
    assert world.offline.feature_sets == {catalogue.version: catalogue.names}


def _equal_vectors(a: tuple[str, tuple[float, ...]], b: tuple[str, tuple[float, ...]]) -> bool:
    return a[0] == b[0] and same_values(a[1], b[1])


async def test_a_batch_gives_the_per_bar_output_with_one_read_insert_publish_and_commit_each(
    catalogue: FeatureCatalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars = interleave(*(make_series(s, 10) for s in ("AAA", "BBB", "REF")))
    world = World(catalogue, bars)
    handler = await world.handler()
    reads: list[str] = []
    marker = world.online.marker

    async def counted_marker(symbol: str) -> SnapshotMarker | None:
        reads.append(symbol)
        return await marker(symbol)

    monkeypatch.setattr(world.online, "marker", counted_marker)

    await handler.handle_batch([delivery(bar) for bar in bars])

    expected = expected_values(catalogue, bars, "REF")
    assert sorted(reads) == ["AAA", "BBB", "REF"]  # one fencing read per symbol, not per bar
    assert world.offline.insert_calls == 1
    assert world.online.commits == 3
    assert same_tables(world.stored_values(), expected)
    published = published_by_bar(world.published(), catalogue.names)
    assert len(world.published()) == len(expected) == len(published)
    for symbol in ("AAA", "BBB", "REF"):
        latest = await world.online.latest_vector(symbol)
        last_bar = max((b for b in bars if b.symbol == symbol), key=lambda b: b.ts_open)
        assert latest is not None and latest.ts_open == last_bar.ts_open
        assert await world.online.marker(symbol) == SnapshotMarker(catalogue.version, last_bar.ts_open)
