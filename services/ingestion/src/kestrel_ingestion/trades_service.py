"""The live service's trade loop: Binance trades -> `market.ticks` (store and Kafka) until stopped.

Runs beside the kline loop when KESTREL_TRADES is on, with its own pool and bus so that a failure in
one loop does not take down the other. Infrastructure failures are retried with backoff; trades
printed while the loop is down are not recovered (no REST backfill of trades yet).
"""

from __future__ import annotations

import asyncio
import functools

import asyncpg
from confluent_kafka import KafkaException

from kestrel_contracts.registry import channel
from kestrel_ingestion.adapters.tick_store import insert_ticks
from kestrel_ingestion.settings import IngestionSettings
from kestrel_ingestion.sources.binance_config import BinanceConfig, BinanceError
from kestrel_ingestion.sources.binance_trades import BinanceTradeSource
from kestrel_ingestion.tick_pipeline import TickPipeline, TickResult
from kestrel_messaging.admin import create_kafka_topics
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

_log = get_logger("kestrel.ingestion.trades")


async def ingest_trades_once(settings: IngestionSettings, stop: asyncio.Event) -> TickResult:
    pool = await create_pool(settings.database_url, application_name="kestrel-ingestion-trades")
    bus = KafkaBus(settings.kafka_bootstrap, client_id=f"{settings.service_name}-trades")
    try:
        await apply_migrations(pool)
        await create_kafka_topics(settings.kafka_bootstrap, [channel("market.ticks")])
        config = BinanceConfig().with_urls(settings.binance_rest_url, settings.binance_ws_url)
        source = BinanceTradeSource(settings.symbol_list, config=config)
        pipeline = TickPipeline(bus, functools.partial(insert_ticks, pool), batch_size=settings.batch_size)
        return await pipeline.run(source, stop)
    finally:
        await bus.close()
        await pool.close()


async def follow_trades(settings: IngestionSettings, stop: asyncio.Event) -> None:
    delay = 1.0
    while not stop.is_set():
        try:
            result = await ingest_trades_once(settings, stop)
        except (OSError, asyncpg.PostgresError, KafkaException, BinanceError) as exc:
            _log.warning("trades.retrying", error=repr(exc), retry_in_s=delay)
            if await sleep_or_stop(stop, delay):
                break
            delay = min(delay * 2, 30.0)
            continue
        _log.info("trades.stopped", published=result.published, unreadable=result.unreadable)
        break
