"""Backfill write throughput: synthetic bars through the ingestion pipeline into PostgreSQL and Kafka.

Validation, COPY-based upsert into `market.bars`, publishing on `market.bars` (batched) and the
checkpoint, exactly as `kestrel ingest` runs them, into a throwaway database and a namespaced topic.

    uv run python bench/bench_ingestion.py [--symbols 10] [--bars 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from pathlib import Path

from kestrel_contracts.registry import channel
from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.convert import to_row
from kestrel_ingestion.pipeline import IngestionPipeline
from kestrel_ingestion.sources.synthetic import SyntheticSource
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.bars import upsert_bars
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_testing.databases import temporary_database

RESULTS = Path(__file__).parent / "results"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--bars", type=int, default=10_000)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    os.environ["KESTREL_CHANNEL_NAMESPACE"] = f"bench{tag}"
    server = os.environ.get("KESTREL_DATABASE_URL", "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel")
    bus = KafkaBus(os.environ.get("KESTREL_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    total = args.symbols * args.bars
    async with temporary_database(server, f"kestrel_bench_{tag}") as url:
        pool = await create_pool(url)
        try:
            await apply_migrations(pool)
            for name in ("market.bars", "audit.logs"):
                await bus.ensure_channel(channel(name))
            bars = list(SyntheticSource(args.symbols, args.bars, "1m", seed=5).iter_bars())
            started = time.perf_counter()
            await upsert_bars(pool, [to_row(b) for b in bars[: total // 2]])
            store_only = (total // 2) / (time.perf_counter() - started)
            await pool.execute("TRUNCATE market.bars")
            result = await IngestionPipeline(bus, PostgresBarStore(pool)).run(
                SyntheticSource(args.symbols, args.bars, "1m", seed=5)
            )
        finally:
            await pool.close()
            await bus.close()
    figures = {
        "bars": total,
        "store_only_bars_per_s": store_only,
        "pipeline_bars_per_s": result.published / result.seconds,
        "pipeline_seconds": result.seconds,
    }
    print(f"\nIngestion backfill ({args.symbols} symbols x {args.bars} bars, 1m, synthetic)")
    print(f"  COPY upsert into market.bars only        {store_only:>10,.0f} bars/s")
    print(
        f"  pipeline: validate + store + publish     {figures['pipeline_bars_per_s']:>10,.0f} bars/s"
        f"  ({result.seconds:.1f} s, {result.batches} batches)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingestion.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
