"""The features service on real Kafka, PostgreSQL and Redis, with the real feature catalogue.

Bars are stored in market.bars and then published on a per-test topic, as ingestion does. The
service runs through its own wiring (`serve`), in-process or as `python -m kestrel_features`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from kestrel_contracts.events import datetime_to_ns
from kestrel_contracts.registry import Channel, channel
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_featurelib import default_feature_set
from kestrel_features.adapters.redis_online import RedisOnlineStore
from kestrel_features.service import serve
from kestrel_features.settings import FeaturesSettings
from kestrel_features.testing import (
    BarKey,
    expected_values,
    interleave,
    make_series,
    same_tables,
    same_values,
)
from kestrel_messaging import ConsumerOptions, Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_store import bars as bar_rows
from kestrel_store.features import fetch_vectors
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration

SYMBOLS = ("AAA", "BBB", "REF")
BARS_PER_SYMBOL = 560  # the real catalogue warms up in 498 bars: ~60 vectors per symbol


@dataclasses.dataclass
class Rig:
    settings: FeaturesSettings
    pool: asyncpg.Pool
    bus: KafkaBus
    bars: Channel
    vectors: Channel
    online: RedisOnlineStore

    async def stored(self) -> dict[BarKey, tuple[float, ...]]:
        version = default_feature_set(self.settings.reference_symbol).version
        out: dict[BarKey, tuple[float, ...]] = {}
        for symbol in SYMBOLS:
            for row in await fetch_vectors(self.pool, symbol, self.settings.timeframe, version):
                out[(symbol, datetime_to_ns(row.ts))] = tuple(row.values)
        return out

    async def stored_count(self) -> int:
        count: int = await self.pool.fetchval("SELECT count(*) FROM features.vectors")
        return count


@pytest.fixture
async def rig(
    kafka_bootstrap: str, redis_url: str, fresh_database_url: str, unique: str
) -> AsyncIterator[Rig]:
    await apply_migrations(fresh_database_url)
    settings = FeaturesSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        database_url=fresh_database_url,
        bars_topic=f"test.bars.{unique}",
        vectors_topic=f"test.vectors.{unique}",
        consumer_group=f"test.features.{unique}",
        reference_symbol="REF",
        vector_key_prefix=f"test:{unique}:feat:",
        state_key_prefix=f"test:{unique}:featstate:",
        max_attempts=3,
        retry_backoff_s=0.05,
        # Small fetches: the batch path, yet slow enough that a kill can land in warm-up and emission.
        consumer_batch_size=5,
    )
    bars = dataclasses.replace(channel("market.bars"), name=settings.bars_topic, partitions=3)
    vectors = dataclasses.replace(channel("features.vectors"), name=settings.vectors_topic, partitions=3)
    bus = KafkaBus(kafka_bootstrap)
    await bus.ensure_channel(bars)
    await bus.ensure_channel(vectors)
    pool = await create_pool(fresh_database_url, max_size=2)
    online = RedisOnlineStore.from_url(
        redis_url, "1d", vector_prefix=settings.vector_key_prefix, state_prefix=settings.state_key_prefix
    )
    try:
        yield Rig(settings, pool, bus, bars, vectors, online)
    finally:
        keys = [key async for key in online._redis.scan_iter(match=f"test:{unique}:*")]
        if keys:
            await online._redis.delete(*keys)
        await online.close()
        await bus.close()
        await pool.close()


def _bars() -> list[Bar]:
    return interleave(*(make_series(symbol, BARS_PER_SYMBOL) for symbol in SYMBOLS))


async def _ingest(rig: Rig, bars: list[Bar]) -> None:
    """What ingestion does: store the bars, then publish them keyed by symbol."""
    await bar_rows.upsert_bars(rig.pool, [bar_rows.row_from_event(b) for b in bars])
    await rig.bus.publish_batch(rig.bars, bars)


async def _until(condition: Callable[[], Awaitable[bool] | bool], within_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        done = condition()
        if done if isinstance(done, bool) else await done:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within_s}s waiting for {what}")
        await asyncio.sleep(0.1)


async def _stored_at_least(rig: Rig, count: int) -> bool:
    return await rig.stored_count() >= count


async def _topic(rig: Rig, at_least: int) -> list[FeatureVector]:
    """Everything on the vectors topic (read until it has been quiet for a while)."""
    got: list[FeatureVector] = []
    stop = asyncio.Event()

    async def collect(delivery: Delivery) -> None:
        assert isinstance(delivery.message, FeatureVector)
        got.append(delivery.message)

    sub = rig.bus.subscribe(
        rig.vectors,
        group=f"{rig.settings.consumer_group}.reader",
        consumer="reader",
        options=ConsumerOptions(),
    )
    task = asyncio.create_task(sub.run(collect, stop))
    await _until(lambda: len(got) >= at_least, 60, f"{at_least} vectors on the topic")
    seen = -1
    while seen != len(got):  # quiet for a second: nothing more is coming
        seen = len(got)
        await asyncio.sleep(1.0)
    stop.set()
    await asyncio.wait_for(task, 15)
    return got


async def _assert_like_one_uninterrupted_run(rig: Rig, bars: list[Bar]) -> None:
    catalogue = default_feature_set("REF")
    expected = expected_values(catalogue, bars, "REF")
    assert len(expected) == len(SYMBOLS) * (BARS_PER_SYMBOL - catalogue.warmup + 1)
    await _until(lambda: _stored_at_least(rig, len(expected)), 120, f"{len(expected)} stored vectors")
    assert same_tables(await rig.stored(), expected)  # exactly one per (symbol, bar), equal values

    for symbol in SYMBOLS:
        last = max((b for b in bars if b.symbol == symbol), key=lambda b: b.ts_open)
        latest = await rig.online.latest_vector(symbol)
        assert latest is not None and latest.ts_open == last.ts_open and latest.close == last.close
        assert same_values([latest.values[n] for n in catalogue.names], expected[(symbol, last.ts_open)])

    published = await _topic(rig, len(expected))
    ts_open = {(b.symbol, b.ts_event): b.ts_open for b in bars}
    by_bar: dict[BarKey, list[FeatureVector]] = {}
    for vector in published:
        by_bar.setdefault((vector.symbol, ts_open[(vector.symbol, vector.ts_event)]), []).append(vector)
    assert set(by_bar) == set(expected)
    for key, vectors in by_bar.items():  # repeats are allowed, two different vectors never
        values = [tuple(v.values[n] for n in catalogue.names) for v in vectors]
        assert all(v.event_id == vectors[0].event_id for v in vectors)
        assert all(same_values(v, expected[key]) for v in values)


async def test_bars_of_three_symbols_give_exactly_one_vector_per_bar_past_warm_up(rig: Rig) -> None:
    bars = _bars()
    await _ingest(rig, bars)
    stop = asyncio.Event()
    service = asyncio.create_task(serve(rig.settings, stop))

    await _assert_like_one_uninterrupted_run(rig, bars)

    stop.set()
    await asyncio.wait_for(service, 30)  # graceful: drains, commits, closes


async def test_a_service_cancelled_midway_and_restarted_loses_and_duplicates_nothing(rig: Rig) -> None:
    bars = _bars()
    await _ingest(rig, bars)
    stop = asyncio.Event()
    first = asyncio.create_task(serve(rig.settings, stop))
    await _until(lambda: _stored_at_least(rig, 70), 120, "the first run to be under way")
    first.cancel()  # abrupt: whatever bar is in hand is abandoned between any two awaits
    with contextlib.suppress(asyncio.CancelledError):
        await first
    assert 0 < await rig.stored_count() < len(SYMBOLS) * (BARS_PER_SYMBOL - 497)

    second = asyncio.create_task(serve(rig.settings, stop))
    await _assert_like_one_uninterrupted_run(rig, bars)
    stop.set()
    await asyncio.wait_for(second, 30)


def _service_env(settings: FeaturesSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESTREL_")}
    for name in (
        "kafka_bootstrap", "redis_url", "database_url", "bars_topic", "vectors_topic", "consumer_group",
        "reference_symbol", "vector_key_prefix", "state_key_prefix", "timeframe", "consumer_batch_size",
    ):  # fmt: skip
        env[f"KESTREL_{name.upper()}"] = str(getattr(settings, name))
    env["KESTREL_HTTP_PORT"] = "0"
    env["KESTREL_LOG_LEVEL"] = "WARNING"
    return env


async def _start_process(settings: FeaturesSettings) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kestrel_features", env=_service_env(settings),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def test_a_sigkilled_service_process_restarted_loses_and_duplicates_nothing(rig: Rig) -> None:
    bars = _bars()
    await _ingest(rig, bars)
    half_warm = {symbol: make_series(symbol, 1, start=100)[0].ts_open for symbol in SYMBOLS}

    async def in_warm_up() -> bool:  # states half-way through warm-up, no vector stored yet
        markers = {symbol: await rig.online.marker(symbol) for symbol in SYMBOLS}
        started = any(m is not None and m.ts_open >= half_warm[s] for s, m in markers.items())
        return started and await rig.stored_count() == 0

    process = await _start_process(rig.settings)
    stored_at_kill = []
    try:
        # Killed twice: once while warming up (only snapshots exist), once while emitting vectors.
        for under_way, what in ((in_warm_up, "warm-up"), (lambda: _stored_at_least(rig, 60), "emission")):
            await _until(under_way, 120, f"the process to be in {what}")
            process.send_signal(signal.SIGKILL)  # no drain, no commit, no goodbye to the group
            assert await process.wait() == -signal.SIGKILL
            stored_at_kill.append(await rig.stored_count())
            process = await _start_process(rig.settings)  # waits out the dead member's session, resumes
        assert stored_at_kill[0] < stored_at_kill[1] < len(SYMBOLS) * (BARS_PER_SYMBOL - 497)

        await _assert_like_one_uninterrupted_run(rig, bars)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0  # graceful shutdown exits cleanly
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
