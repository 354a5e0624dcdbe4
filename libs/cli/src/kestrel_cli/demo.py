"""`kestrel demo`: the live loop on replayed market data, paper trading (or `--broker binance`: the
local Binance-protocol exchange, see demo_broker), then a summary.

One run, end to end, on the real infrastructure and the real service processes:

1. a fresh database (`kestrel_demo`, recreated each run so the summary describes this run alone) and
   a fresh channel namespace (`demo<timestamp>`) so old runs' topics and offsets cannot leak in;
2. the signal source: the model the registry alias points to (or one trained and registered now), or
   with `--strategy` a catalogue strategy with its parameters, served by the same signal service;
3. features, inference, risk, execution and the gateway started as processes and waited on (/ready);
4. the samples replayed through ingestion (store -> Kafka) merged by time, with a progress bar;
5. wait until every bar past warm-up became a vector and a signal and the orders settled;
6. the summary (through the gateway's API, as a user would read it) and the URLs to look around.

Then it keeps the services up until Ctrl-C (or exits at once with --exit), stopping all it started.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from kestrel_cli.demo_broker import LocalExchange, venue_rows
from kestrel_cli.demo_loop import wait_for_loop
from kestrel_cli.demo_model import ensure_model, first_traded_ts, model_rows
from kestrel_cli.demo_summary import print_summary
from kestrel_cli.settings import CliSettings
from kestrel_cli.supervisor import ServiceSpec, Supervisor, child_environment
from kestrel_contracts.registry import NAMESPACE_ENV
from kestrel_featurelib import default_feature_set
from kestrel_messaging.topics import create_all
from kestrel_store.databases import recreate_database
from kestrel_store.migrate import apply_migrations
from kestrel_strategies import build

DEMO_DATABASE = "kestrel_demo"
GATEWAY_PORT = 8000


@dataclass(frozen=True, slots=True)
class DemoOptions:
    samples: tuple[str, ...] = ("sp500", "nasdaq")
    bars: int = 1500  # per symbol: the feature warm-up (498) plus about the held-out validation years
    exit_when_done: bool = False
    drain_timeout_s: float = 900
    run_dir: Path = Path(".run")
    strategy: str | None = None  # a catalogue strategy instead of the model
    strategy_params: dict[str, str] = field(default_factory=dict)
    reference_symbol: str | None = None  # read, not traded, by pairs_spread / dual_momentum
    broker: str = "paper"  # or "binance": execution trades on the local exchange (demo_broker)

    def source_environment(self) -> dict[str, str]:
        """What the signal service is told to serve (nothing: the model, its default)."""
        if self.strategy is None:
            return {}
        environment = {
            "KESTREL_SIGNAL_SOURCE": "strategy",
            "KESTREL_STRATEGY": self.strategy,
            "KESTREL_STRATEGY_PARAMS": json.dumps(self.strategy_params),
        }
        if self.reference_symbol:
            environment["KESTREL_STRATEGY_REFERENCE_SYMBOL"] = self.reference_symbol
        return environment


def service_specs(
    run: str, source: dict[str, str] | None = None, execution: dict[str, str] | None = None
) -> list[ServiceSpec]:
    return [
        ServiceSpec(
            "features",
            8002,
            {
                "KESTREL_TIMEFRAME": "1d",
                "KESTREL_REFERENCE_SYMBOL": "SP500",
                "KESTREL_VECTOR_KEY_PREFIX": f"{run}:feat:",
                "KESTREL_STATE_KEY_PREFIX": f"{run}:featstate:",
            },
        ),
        ServiceSpec("inference", 8003, dict(source or {})),
        ServiceSpec("risk", 8005),
        ServiceSpec("execution", 8006, dict(execution or {})),
        ServiceSpec("gateway", GATEWAY_PORT),
    ]


def symbol_of(sample: str) -> str:
    from kestrel_ingestion.sources.samples import SAMPLES  # noqa: PLC0415

    return SAMPLES[sample].symbol


async def replay(settings: CliSettings, database_url: str, options: DemoOptions) -> int:
    from kestrel_ingestion.runner import ingest  # noqa: PLC0415
    from kestrel_ingestion.settings import IngestionSettings  # noqa: PLC0415
    from kestrel_ingestion.sources.merged import sample_source  # noqa: PLC0415
    from kestrel_ingestion.validation import BarValidator  # noqa: PLC0415

    ingestion = IngestionSettings(
        kafka_bootstrap=settings.kafka_bootstrap, redis_url=settings.redis_url, database_url=database_url
    )
    source = sample_source(options.samples, last=options.bars)
    validator = BarValidator(calendars=source.calendars)
    result = await ingest(ingestion, source, total=source.count(), validator=validator)
    return result.published


async def run_demo(settings: CliSettings, options: DemoOptions) -> int:
    console = Console()
    run = f"demo{time.strftime('%Y%m%d%H%M%S')}"
    os.environ[NAMESPACE_ENV] = run  # this process publishes the replay into the run's channels
    with console.status("fresh demo database, topics and streams"):
        database_url = await recreate_database(settings.database_url, DEMO_DATABASE)
        await apply_migrations(database_url)
        await create_all(settings.kafka_bootstrap, settings.redis_url)
    model_summary: list[tuple[str, str]] = []
    if options.strategy is None:
        traded_from = first_traded_ts(options.samples, options.bars, default_feature_set("SP500").warmup)
        model = await asyncio.to_thread(ensure_model, settings, database_url, console, traded_from)
        console.print(f"model: {model.name} v{model.version}")
        model_summary = await asyncio.to_thread(model_rows, settings, model, traded_from)
    else:
        bound = build(options.strategy, options.strategy_params)  # refused here, by name, if invalid
        console.print(f"strategy: {bound.strategy_id}")
    env = child_environment(
        {
            "KESTREL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "KESTREL_REDIS_URL": settings.redis_url,
            "KESTREL_DATABASE_URL": database_url,
            "KESTREL_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
            NAMESPACE_ENV: run,
            "KESTREL_LOG_LEVEL": "WARNING",
            **({"KESTREL_OTLP_ENDPOINT": settings.otlp_endpoint} if settings.otlp_endpoint else {}),
        }
    )
    log_dir = options.run_dir / "demo" / run
    exchange = LocalExchange() if options.broker == "binance" else None
    specs = service_specs(run, options.source_environment(), exchange.execution_env() if exchange else None)
    if exchange is not None:
        # First, so it stops last: execution must never lose its venue while it drains.
        specs.insert(0, exchange.spec([symbol_of(sample) for sample in options.samples]))
    async with Supervisor(specs, env, log_dir) as services:
        if exchange is not None:
            with console.status(f"starting the local exchange on {exchange.rest_url}"):
                await services["exchange"].start()  # answering before execution loads its rules
                await services["exchange"].wait_ready(60)
        with console.status(f"starting features, inference, risk, execution, gateway (logs: {log_dir})"):
            await services.start_all()
        published = await replay(settings, database_url, options)
        console.print(f"replayed {published} bars; waiting for the loop to settle")
        per_bar = options.strategy is not None
        counts = await wait_for_loop(
            database_url, options.drain_timeout_s, console, per_bar=per_bar, untraded=options.reference_symbol
        )
        venue = [*exchange.summary_rows(), *await venue_rows(database_url)] if exchange else []
        await print_summary(
            console, settings, database_url, counts, f"http://127.0.0.1:{GATEWAY_PORT}",
            model=model_summary, venue=venue,
        )  # fmt: skip
        if options.exit_when_done:
            return 0
        console.print("[bold]The services keep running. Press Ctrl-C to stop everything the demo started.")
        await asyncio.Event().wait()  # until Ctrl-C cancels the run
    return 0
