"""Features service throughput end to end: real Kafka, PostgreSQL and Redis, all features, one consumer.

Bars are stored in market.bars and published on a fresh topic (as ingestion does), then the service
runs through its own wiring (`kestrel_features.__main__.serve`) in this process. Two phases are timed:
warm-up (the first `warmup` bars of each symbol: state update + snapshot only, no vector) and
emission (every later bar: store insert, publish, snapshot + online vector). Throughput is bars
handled per second with the topic pre-filled, i.e. the consumer never waits for input.
Endpoints come from KESTREL_KAFKA_BOOTSTRAP / KESTREL_DATABASE_URL / KESTREL_REDIS_URL.

    uv run python bench/bench_features_service.py [--symbols 5] [--bars 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from dataclasses import replace
from pathlib import Path

import asyncpg

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_featurelib import default_feature_set
from kestrel_features.adapters.redis_online import RedisOnlineStore
from kestrel_features.service import serve
from kestrel_features.settings import FeaturesSettings
from kestrel_features.testing import interleave, make_series
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.logging import configure_logging
from kestrel_platform.tracing import configure_tracing
from kestrel_store import bars as bar_rows
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_testing.databases import temporary_database

RESULTS = Path(__file__).parent / "results"
REFERENCE = "SYM0"


async def _ingest(pool: asyncpg.Pool, bus: KafkaBus, settings: FeaturesSettings, bars: list[Bar]) -> None:
    await bar_rows.upsert_bars(pool, [bar_rows.row_from_event(b) for b in bars])
    topic = replace(channel("market.bars"), name=settings.bars_topic)
    for start in range(0, len(bars), 1000):
        await bus.publish_batch(topic, bars[start : start + 1000])


async def _reached(online: RedisOnlineStore, symbol: str, ts_open: int) -> bool:
    marker = await online.marker(symbol)
    return marker is not None and marker.ts_open >= ts_open


async def _until_reached(online: RedisOnlineStore, positions: dict[str, int], poll_s: float) -> None:
    """Wait until every symbol's state snapshot includes its bar at the given open time."""
    while True:
        if all([await _reached(online, symbol, ts) for symbol, ts in positions.items()]):
            return
        await asyncio.sleep(poll_s)


async def _phase(
    pool: asyncpg.Pool, bus: KafkaBus, online: RedisOnlineStore, settings: FeaturesSettings, bars: list[Bar]
) -> tuple[int, float]:
    last = {b.symbol: b.ts_open for b in bars}  # bars are in time order
    await _ingest(pool, bus, settings, bars)  # the topic is full before the clock starts
    # The clock starts at the first bar handled, so the consumer group's join is not counted.
    await _until_reached(online, {bars[0].symbol: bars[0].ts_open}, 0.002)
    started = time.perf_counter()
    await _until_reached(online, last, 0.02)
    return len(bars) - 1, time.perf_counter() - started


async def run(symbols: int, bars_per_symbol: int, database_url: str) -> dict[str, float]:
    tag = uuid.uuid4().hex[:8]
    catalogue = default_feature_set(REFERENCE)
    warmup = catalogue.warmup - 1  # bars per symbol before the first vector
    names = [f"SYM{i}" for i in range(symbols)]
    series = [
        make_series(name, warmup + bars_per_symbol, step_ns=60_000_000_000, timeframe="1m") for name in names
    ]
    warm_bars = interleave(*(s[:warmup] for s in series))
    hot_bars = interleave(*(s[warmup:] for s in series))
    settings = FeaturesSettings(
        http_port=0,
        database_url=database_url,
        kafka_bootstrap=os.environ.get("KESTREL_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        redis_url=os.environ.get("KESTREL_REDIS_URL", "redis://127.0.0.1:16379/0"),
        bars_topic=f"bench.bars.{tag}",
        vectors_topic=f"bench.vectors.{tag}",
        consumer_group=f"bench.features.{tag}",
        timeframe="1m",
        reference_symbol=REFERENCE,
        vector_key_prefix=f"bench:{tag}:feat:",
        state_key_prefix=f"bench:{tag}:featstate:",
    )
    await apply_migrations(database_url)
    pool = await create_pool(database_url, max_size=2)
    bus = KafkaBus(settings.kafka_bootstrap)
    online = RedisOnlineStore.from_url(
        settings.redis_url,
        "1m",
        vector_prefix=settings.vector_key_prefix,
        state_prefix=settings.state_key_prefix,
    )
    stop = asyncio.Event()
    service = asyncio.create_task(serve(settings, stop))
    try:
        warm_n, warm_s = await _phase(pool, bus, online, settings, warm_bars)
        hot_n, hot_s = await _phase(pool, bus, online, settings, hot_bars)
        vectors: int = await pool.fetchval("SELECT count(*) FROM features.vectors")
    finally:
        stop.set()
        await asyncio.wait_for(service, 60)
        keys = [key async for key in online._redis.scan_iter(match=f"bench:{tag}:*")]
        if keys:
            await online._redis.delete(*keys)
        await online.close()
        await bus.close()
        await pool.close()
    if vectors != len(hot_bars):
        raise RuntimeError(f"expected {len(hot_bars)} vectors in the store, found {vectors}")
    return {
        "features": len(catalogue.names),
        "symbols": symbols,
        "warmup_bars": warm_n,
        "warmup_bars_per_s": warm_n / warm_s,
        "emitting_bars": hot_n,
        "emitting_bars_per_s": hot_n / hot_s,
        "emitting_ms_per_bar": hot_s / hot_n * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=5)
    parser.add_argument("--bars", type=int, default=1000, help="bars per symbol past warm-up")
    args = parser.parse_args()
    configure_logging("bench-features", "WARNING")
    configure_tracing("bench-features", None)
    server = os.environ.get("KESTREL_DATABASE_URL", "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel")
    async with temporary_database(server, f"kestrel_bench_{uuid.uuid4().hex[:10]}") as url:
        figures = await run(args.symbols, args.bars, url)
    print("\nFeatures service, end to end (Kafka -> features -> PostgreSQL + Kafka + Redis), one consumer")
    print(
        "  " + "  ".join(f"{k}={v:,.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "features_service.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
