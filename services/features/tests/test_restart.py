"""Killing the service at any point and restarting it loses nothing and duplicates nothing (on fakes).

Bars go one at a time or in batches (`handle_batch`, one fetch of the consumer: one bulk insert, one
batch publish, one commit per symbol); both are killed inside each effect.

A "process" is a handler with its own memory; it dies by an exception raised inside one of its
effects (store insert, publish, online-store commit) at a chosen bar. The next process starts with
empty memory on the same stores, and the consumer group redelivers from its last committed offset,
anywhere at or before the bar the first one died on. The outcome must equal one uninterrupted run:
the same rows in the offline store, the same latest vectors online, and on the topic every
(symbol, bar) past warm-up at least once and never two different vectors for one (symbol, bar).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_features.adapters.memory import InMemoryOnlineStore
from kestrel_features.catalogue import FeatureCatalogue
from kestrel_features.ports import SnapshotMarker
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

SYMBOLS = ("AAA", "BBB", "REF")
# Each effect by its per-bar and its batch method; a kill counts calls of either.
EFFECTS = {
    "insert": ("offline", ("insert_vector", "insert_vectors")),
    "publish": ("bus", ("publish", "publish_batch")),
    "commit": ("online", ("commit",)),
}


class ProcessDiedError(Exception):
    """The process was killed in the middle of handling a bar."""


def _die_on_call(world: World, effect: str, call: int) -> Callable[[], None]:
    """Make the `call`-th use of `effect` kill the process; returns the undo (the next process's world)."""
    owner = getattr(world, EFFECTS[effect][0])
    names = EFFECTS[effect][1]
    originals: dict[str, Callable[..., Awaitable[Any]]] = {name: getattr(owner, name) for name in names}
    calls = 0

    def dying(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call_or_die(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == call:
                raise ProcessDiedError(f"killed in {effect} #{call}")
            return await original(*args, **kwargs)

        return call_or_die

    for name, original in originals.items():
        setattr(owner, name, dying(original))

    def undo() -> None:
        for name, original in originals.items():
            setattr(owner, name, original)

    return undo


def _bars() -> list[Bar]:
    return interleave(*(make_series(symbol, 14) for symbol in SYMBOLS))


async def _run_with_a_kill(
    catalogue: FeatureCatalogue, effect: str, call: int, rewind: int, *, lose_online_store: bool = False
) -> World:
    bars = _bars()
    world = World(catalogue, bars)
    undo = _die_on_call(world, effect, call)
    first = await world.handler()
    died_at = None
    for index, bar in enumerate(bars):
        try:
            await first(delivery(bar))
        except ProcessDiedError:
            died_at = index
            break
    assert died_at is not None, "the kill point was never reached"
    undo()
    if lose_online_store:
        world.online = InMemoryOnlineStore()
    second = await world.handler()
    for bar in bars[max(died_at - rewind, 0) :]:  # the group redelivers from its last commit
        await second(delivery(bar))
    return world


async def _assert_like_one_uninterrupted_run(world: World, catalogue: FeatureCatalogue) -> None:
    bars = _bars()
    expected = expected_values(catalogue, bars, "REF")
    assert same_tables(world.stored_values(), expected)
    published = published_by_bar(world.published(), catalogue.names)
    ts_open = {(b.symbol, b.ts_event): b.ts_open for b in bars}
    assert {(symbol, ts_open[(symbol, ts)]) for symbol, ts in published} == set(expected)
    for (symbol, ts), vectors in published.items():
        event_id, values = vectors[0]
        assert same_values(values, expected[(symbol, ts_open[(symbol, ts)])])
        assert all(other[0] == event_id and same_values(other[1], values) for other in vectors)
    for symbol in SYMBOLS:
        last = max(b.ts_open for b in bars if b.symbol == symbol)
        latest = await world.online.latest_vector(symbol)
        assert latest is not None and latest.ts_open == last
        assert same_values([latest.values[n] for n in catalogue.names], expected[(symbol, last)])


@pytest.mark.parametrize("effect", sorted(EFFECTS))
@pytest.mark.parametrize("call", [1, 7, 20])
@pytest.mark.parametrize("rewind", [0, 3, 40])
async def test_a_kill_in_any_effect_then_a_restart_equals_one_uninterrupted_run(
    catalogue: FeatureCatalogue, effect: str, call: int, rewind: int
) -> None:
    world = await _run_with_a_kill(catalogue, effect, call, rewind)
    await _assert_like_one_uninterrupted_run(world, catalogue)


@pytest.mark.parametrize("seed", range(25))
async def test_random_kills_and_redeliveries(catalogue: FeatureCatalogue, seed: int) -> None:
    rng = random.Random(seed)
    effect = rng.choice(sorted(EFFECTS))
    call = rng.randint(1, 25 if effect != "commit" else 40)
    world = await _run_with_a_kill(catalogue, effect, call, rng.randint(0, 40))
    await _assert_like_one_uninterrupted_run(world, catalogue)


@pytest.mark.parametrize("effect", sorted(EFFECTS))
@pytest.mark.parametrize("call", [2, 9, 21])
async def test_a_failed_attempt_retried_in_the_same_process_counts_the_bar_once(
    catalogue: FeatureCatalogue, effect: str, call: int
) -> None:
    # The consumer retries a failing handler in-process; the state in memory may already hold the bar.
    bars = _bars()
    world = World(catalogue, bars)
    _die_on_call(world, effect, call)
    handler = await world.handler()
    failures = 0
    for bar in bars:
        for attempt in (1, 2):
            try:
                await handler(delivery(bar, attempt))
                break
            except ProcessDiedError:
                failures += 1
    assert failures == 1
    await _assert_like_one_uninterrupted_run(world, catalogue)


@pytest.mark.parametrize("effect", sorted(EFFECTS))
async def test_without_snapshots_the_state_is_rebuilt_from_stored_bars(
    catalogue: FeatureCatalogue, effect: str
) -> None:
    replays = REGISTRY.get_sample_value("features_state_loads_total", {"source": "replay"}) or 0.0
    world = await _run_with_a_kill(catalogue, effect, 15, 5, lose_online_store=True)
    await _assert_like_one_uninterrupted_run(world, catalogue)
    assert (REGISTRY.get_sample_value("features_state_loads_total", {"source": "replay"}) or 0.0) > replays


async def test_a_new_feature_set_version_starts_from_replayed_bars_not_the_old_snapshot(
    catalogue: FeatureCatalogue, upgraded_catalogue: FeatureCatalogue
) -> None:
    bars = _bars()
    world = World(catalogue, bars)
    old = await world.handler()
    for bar in bars[:20]:
        await old(delivery(bar))
    upgraded = upgraded_catalogue
    assert upgraded.version != catalogue.version
    new = await world.handler(catalogue=upgraded)
    for bar in bars[20:]:
        await new(delivery(bar))

    expected = expected_values(upgraded, bars, "REF")
    after = {
        key: values
        for key, values in expected.items()
        if (key[0], key[1]) in {(b.symbol, b.ts_open) for b in bars[20:]}
    }
    assert same_tables(world.stored_values(upgraded.version), after)
    assert (await world.online.marker("AAA")) == SnapshotMarker(upgraded.version, bars[-1].ts_open)
    assert all(v.feature_set_version == upgraded.version for v in world.published()[-len(after) :])


def _in_batches(bars: list[Bar], size: int) -> list[list[Bar]]:
    return [bars[start : start + size] for start in range(0, len(bars), size)]


async def _run_batches_with_a_kill(
    catalogue: FeatureCatalogue, effect: str, call: int, size: int, rewind: int
) -> World:
    bars = _bars()
    world = World(catalogue, bars)
    undo = _die_on_call(world, effect, call)
    first = await world.handler()
    died_at = None
    for start in range(0, len(bars), size):
        try:
            await first.handle_batch([delivery(bar) for bar in bars[start : start + size]])
        except ProcessDiedError:
            died_at = start
            break
    assert died_at is not None, "the kill point was never reached"
    undo()
    second = await world.handler()
    for batch in _in_batches(bars[max(died_at - rewind, 0) :], size):  # redelivered from the last commit
        await second.handle_batch([delivery(bar) for bar in batch])
    return world


@pytest.mark.parametrize("effect", sorted(EFFECTS))
@pytest.mark.parametrize("call", [1, 2, 3])
@pytest.mark.parametrize("size", [4, 9])
@pytest.mark.parametrize("rewind", [0, 5, 40])
async def test_a_kill_in_any_effect_of_a_batch_then_a_restart_equals_one_uninterrupted_run(
    catalogue: FeatureCatalogue, effect: str, call: int, size: int, rewind: int
) -> None:
    world = await _run_batches_with_a_kill(catalogue, effect, call, size, rewind)
    await _assert_like_one_uninterrupted_run(world, catalogue)


async def test_a_kill_between_the_bulk_insert_and_the_publish(catalogue: FeatureCatalogue) -> None:
    bars = _bars()
    world = World(catalogue, bars)
    undo = _die_on_call(world, "publish", 1)
    handler = await world.handler()
    with pytest.raises(ProcessDiedError):
        await handler.handle_batch([delivery(bar) for bar in bars])
    assert world.stored_values() and not world.published()  # stored, never published, not committed
    assert await world.online.marker("AAA") is None
    undo()
    second = await world.handler()
    await second.handle_batch([delivery(bar) for bar in bars])
    await _assert_like_one_uninterrupted_run(world, catalogue)


@pytest.mark.parametrize("commit", [1, 2, 3], ids=["before-any-commit", "after-one-symbol", "after-two"])
async def test_a_kill_between_the_publish_and_or_amid_the_commits_of_the_symbols(
    catalogue: FeatureCatalogue, commit: int
) -> None:
    bars = _bars()
    world = World(catalogue, bars)
    undo = _die_on_call(world, "commit", commit)
    handler = await world.handler()
    with pytest.raises(ProcessDiedError):
        await handler.handle_batch([delivery(bar) for bar in bars])
    markers = [await world.online.marker(symbol) for symbol in SYMBOLS]
    assert sum(marker is not None for marker in markers) == commit - 1  # the symbols committed so far
    assert len(world.published()) == len(expected_values(catalogue, bars, "REF"))
    undo()
    second = await world.handler()
    await second.handle_batch([delivery(bar) for bar in bars])
    await _assert_like_one_uninterrupted_run(world, catalogue)


@pytest.mark.parametrize("effect", sorted(EFFECTS))
@pytest.mark.parametrize("call", [1, 2, 3])
async def test_a_failed_batch_handled_again_bar_by_bar_in_the_same_process_counts_each_bar_once(
    catalogue: FeatureCatalogue, effect: str, call: int
) -> None:
    # What the consumer does when a batch handler raises: each delivery again, as a batch of one.
    bars = _bars()
    world = World(catalogue, bars)
    _die_on_call(world, effect, call)
    handler = await world.handler()
    failures = 0
    for batch in _in_batches(bars, 9):
        try:
            await handler.handle_batch([delivery(bar) for bar in batch])
        except ProcessDiedError:
            failures += 1
            for bar in batch:
                await handler(delivery(bar, 2))
    assert failures == 1
    await _assert_like_one_uninterrupted_run(world, catalogue)
