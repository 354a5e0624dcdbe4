"""Run one source through the pipeline against the real infrastructure, with a progress bar.

Shared by the `kestrel ingest ...` commands and the ingestion service process: opens the pool and
the bus, makes sure the schema and channels exist, runs the pipeline and closes everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kestrel_contracts.registry import channel
from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.domain import BarSource
from kestrel_ingestion.pipeline import IngestionPipeline, IngestResult
from kestrel_ingestion.settings import IngestionSettings
from kestrel_ingestion.validation import BarValidator
from kestrel_messaging.admin import create_kafka_topics
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.control import Process
from kestrel_platform.control_gate import ProcessGate
from kestrel_platform.control_store import RedisControl
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool


async def ingest(
    settings: IngestionSettings,
    make_source: Callable[[PostgresBarStore], BarSource] | BarSource,
    *,
    total: int | None = None,
    validator: BarValidator | None = None,
    show_progress: bool = True,
    stop: asyncio.Event | None = None,
) -> IngestResult:
    """Ingest a source; `make_source` may use the store (a backfill resumes from it)."""
    pool = await create_pool(settings.database_url, application_name="kestrel-ingestion")
    bus = KafkaBus(settings.kafka_bootstrap, client_id=settings.service_name)
    control = RedisControl.from_url(settings.redis_url)
    try:
        await apply_migrations(pool)
        await create_kafka_topics(settings.kafka_bootstrap, [channel("market.bars"), channel("audit.logs")])
        store = PostgresBarStore(pool)
        source = make_source(store) if callable(make_source) else make_source
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("bars"),
            TimeElapsedColumn(),
            disable=not show_progress,
            transient=False,
        ) as progress:
            task = progress.add_task(source.name, total=total)
            pipeline = IngestionPipeline(
                bus,
                store,
                service=settings.service_name,
                batch_size=settings.batch_size,
                validator=validator,
                on_progress=lambda n: progress.advance(task, n),
                gate=ProcessGate(control, Process.INGESTION),  # an operator may pause it
            )
            return await pipeline.run(source, stop)
    finally:
        await control.aclose()
        await bus.close()
        await pool.close()
