"""The stage-one demo: prove the path market bar -> Kafka -> consumer group -> PostgreSQL.

It creates the registered channels, applies the migrations, publishes one Bar on `market.bars`
inside a trace, consumes it in a consumer group that writes it to `market.bars` in the store (the
offset is committed only after that write), reads it back and prints what happened. Later issues
replace this with the full paper-trading loop.
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

from rich.console import Console
from rich.table import Table

from kestrel_cli.settings import CliSettings
from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.bar_pb2 import Bar as BarEvent
from kestrel_messaging import ConsumerOptions, Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.topics import create_all
from kestrel_platform.tracing import configure_tracing, current_trace_ids, get_tracer, shutdown_tracing
from kestrel_store.bars import fetch_bars, row_from_event, upsert_bars
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

MINUTE_NS = 60_000_000_000


def demo_bar(symbol: str) -> BarEvent:
    """A one-minute bar that closed at the last whole minute (ts_event is the close time)."""
    close_ns = (now_ns() // MINUTE_NS) * MINUTE_NS
    return BarEvent(
        event_id=derived_event_id("demo", symbol, str(close_ns)),
        ts_event=close_ns,
        ts_init=now_ns(),
        symbol=symbol,
        venue="DEMO",
        timeframe="1m",
        ts_open=close_ns - MINUTE_NS,
        open="4512.25",
        high="4519.5",
        low="4508",
        close="4517.75",
        volume="1250",
        source="kestrel demo",
    )


to_row = row_from_event  # the store's one conversion of a Bar event


async def run_demo(settings: CliSettings, symbol: str, timeout_s: float) -> int:
    console = Console()
    configure_tracing("kestrel-demo", settings.otlp_endpoint)
    bars = channel("market.bars")
    with console.status("creating topics and streams, applying migrations"):
        created = await create_all(settings.kafka_bootstrap, settings.redis_url)
        applied = await apply_migrations(settings.database_url)
    pool = await create_pool(settings.database_url)
    bus = KafkaBus(settings.kafka_bootstrap, client_id="kestrel-demo")
    stored = asyncio.Event()
    seen: dict[str, str] = {}

    event = demo_bar(symbol)

    async def store_bar(delivery: Delivery) -> None:
        assert isinstance(delivery.message, BarEvent)
        await upsert_bars(pool, [to_row(delivery.message)])
        # The group may also be handed bars other publishers left on the topic: wait for ours.
        if delivery.message.event_id == event.event_id:
            seen.update(position=delivery.position, consumer_trace=(current_trace_ids() or ("-", "-"))[0])
            stored.set()

    stop = asyncio.Event()
    consumer = bus.subscribe(
        bars,
        group="kestrel-demo",
        consumer="demo-1",
        options=ConsumerOptions(start_from_beginning=False, poll_timeout_ms=100),
    )
    task = asyncio.create_task(consumer.run(store_bar, stop))
    try:
        await asyncio.sleep(2)  # a new group joins at the log end: let it join before publishing
        started = time.perf_counter()
        with get_tracer("kestrel.demo").start_as_current_span("demo bar") as span:
            await bus.publish(bars, event)
            trace_id = format(span.get_span_context().trace_id, "032x")
        with console.status("waiting for the consumer to store the bar"):
            await asyncio.wait_for(stored.wait(), timeout_s)
        elapsed_ms = (time.perf_counter() - started) * 1000
        row = (await fetch_bars(pool, symbol, "1m", to_row(event).ts, limit=1))[0]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bus.close()
        await pool.close()
        shutdown_tracing()

    table = Table(title="Kestrel demo: one bar through the path", show_header=False)
    for name, value in (
        ("channels created now", ", ".join(created) or "none (all existed)"),
        ("migrations applied now", ", ".join(applied) or "none (schema up to date)"),
        ("bar published", f"{event.symbol} {event.timeframe} close={event.close} event_id={event.event_id}"),
        ("consumed at", f"market.bars partition:offset {seen['position']} (group kestrel-demo)"),
        (
            "stored row",
            f"{row.symbol} {row.ts.isoformat()} O={row.open} H={row.high} L={row.low} "
            f"C={row.close} V={row.volume}",
        ),
        ("one trace", f"{trace_id} (consumer span in trace {seen['consumer_trace']})"),
        ("publish -> stored", f"{elapsed_ms:.1f} ms"),
        ("Prometheus", settings.prometheus_url),
        ("MLflow", settings.mlflow_tracking_uri),
    ):
        table.add_row(name, value)
    console.print(table)
    return 0 if seen["consumer_trace"] == trace_id and row.event_id == UUID(event.event_id) else 1
