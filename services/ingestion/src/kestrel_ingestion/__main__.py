"""`python -m kestrel_ingestion`: the live ingestion service.

Wiring only: settings, logging, tracing, /health, /ready and /metrics, then the pipeline following
Binance klines live (WebSocket, with REST backfill of whatever was missed since the last published
bar) until SIGTERM, when the batch in hand is stored, published and checkpointed before exit.
One-off jobs (backfill, file replay, synthetic, samples) are `kestrel ingest ...` commands.
"""

from __future__ import annotations

import asyncio

import asyncpg
from confluent_kafka import KafkaException

from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.domain import BarSource
from kestrel_ingestion.runner import ingest
from kestrel_ingestion.settings import IngestionSettings
from kestrel_ingestion.sources.binance_config import BinanceConfig, BinanceError
from kestrel_ingestion.sources.resuming import ResumingBinanceSource
from kestrel_ingestion.trades_service import follow_trades
from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe, postgres_probe
from kestrel_platform.service import start_service

_log = get_logger("kestrel.ingestion")


def readiness_checks(settings: IngestionSettings) -> dict[str, ReadinessCheck]:
    """What /ready checks: every piece of infrastructure this service talks to."""
    return {
        "kafka": kafka_probe(settings.kafka_bootstrap),
        "postgres": postgres_probe(settings.database_url),
    }


async def serve(settings: IngestionSettings, stop: asyncio.Event) -> None:
    async with HealthServer(settings.http_host, settings.http_port, readiness_checks(settings)):
        _log.info(
            "service.started",
            host=settings.http_host,
            port=settings.http_port,
            symbols=settings.symbol_list,
            timeframe=settings.timeframe,
        )
        config = BinanceConfig().with_urls(settings.binance_rest_url, settings.binance_ws_url)

        def live_source(store: PostgresBarStore) -> BarSource:
            return ResumingBinanceSource(
                store, settings.symbol_list, settings.timeframe, since_ns=None, config=config, live=True
            )

        # KESTREL_TRADES: trades follow beside the klines, and stop on the same event.
        trades = asyncio.create_task(follow_trades(settings, stop)) if settings.trades else None
        delay = 1.0
        while not stop.is_set():
            try:
                result = await ingest(settings, live_source, show_progress=False, stop=stop)
            except (OSError, asyncpg.PostgresError, KafkaException, BinanceError) as exc:
                # Dependencies may come up after us (or go away): keep /health up, retry with backoff;
                # a restart resumes after the last published bar, so nothing is lost meanwhile.
                _log.warning("ingestion.retrying", error=repr(exc), retry_in_s=delay)
                if await sleep_or_stop(stop, delay):
                    break
                delay = min(delay * 2, 30.0)
                continue
            _log.info("service.stopped", published=result.published, report=result.report.render())
            break
        if trades is not None:
            await trades


def main() -> None:
    start_service(IngestionSettings, "kestrel-ingestion", serve)


if __name__ == "__main__":
    main()
