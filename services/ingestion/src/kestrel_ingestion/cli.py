"""`kestrel ingest ...`: backfill from Binance, replay a file, generate synthetic bars, load a sample."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.domain import BarSource
from kestrel_ingestion.pipeline import IngestResult
from kestrel_ingestion.runner import ingest
from kestrel_ingestion.settings import IngestionSettings
from kestrel_ingestion.sources.binance_config import BinanceConfig
from kestrel_ingestion.sources.files import FileSource
from kestrel_ingestion.sources.merged import sample_source
from kestrel_ingestion.sources.resuming import ResumingBinanceSource
from kestrel_ingestion.sources.samples import available_samples
from kestrel_ingestion.sources.synthetic import SyntheticSource
from kestrel_ingestion.validation import BarValidator
from kestrel_platform.settings import load_settings_or_exit

app = typer.Typer(help="Ingest market data into the store and onto Kafka market.bars.", no_args_is_help=True)
console = Console()


def _since_ns(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"--since must be an ISO date or time, e.g. 2024-01-01; got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


def _finish(result: IngestResult) -> None:
    console.print(result.report.render())
    console.print(
        f"stored {result.stored} new bar(s), published {result.published} in {result.batches} batch(es), "
        f"{result.audit_events} audit event(s), {result.seconds:.1f}s "
        f"({result.published / max(result.seconds, 1e-9):,.0f} bars/s)"
    )


def _run(
    source: BarSource | None = None,
    *,
    total: int | None = None,
    validator: BarValidator | None = None,
    backfill: tuple[list[str], str, int, BinanceConfig] | None = None,
) -> None:
    settings = load_settings_or_exit(IngestionSettings)

    def make(store: PostgresBarStore) -> BarSource:
        if source is not None:
            return source
        assert backfill is not None
        symbols, timeframe, since, config = backfill
        return ResumingBinanceSource(store, symbols, timeframe, since_ns=since, config=config)

    _finish(asyncio.run(ingest(settings, make, total=total, validator=validator)))


@app.command()
def backfill(
    exchange: str = typer.Option("binance", help="Only binance is supported."),
    symbols: str = typer.Option("BTC/USDT,ETH/USDT", help="Comma-separated, BTC/USDT or BTCUSDT."),
    timeframe: str = typer.Option("1m"),
    since: str = typer.Option("2024-01-01", help="ISO date/time (UTC) of the first bar wanted."),
    testnet: bool = typer.Option(False, help="Use the Binance spot testnet."),
    rest_url: str | None = typer.Option(None, help="Override the REST base URL (a local server)."),
    ws_url: str | None = typer.Option(None, help="Override the WebSocket base URL."),
) -> None:
    """Historical klines over REST, resumable: a rerun continues after the last published bar."""
    if exchange.lower() != "binance":
        raise typer.BadParameter(f"unsupported exchange {exchange!r}; supported: binance")
    config = BinanceConfig.testnet() if testnet else BinanceConfig()
    if rest_url or ws_url:
        config = config.with_urls(rest_url or config.rest_url, ws_url or config.ws_url)
    wanted = [s.strip() for s in symbols.split(",") if s.strip()]
    _run(backfill=(wanted, timeframe, _since_ns(since), config))


@app.command()
def replay(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, CSV.gz or Parquet file."),
    symbol: str | None = typer.Option(None, help="Symbol, when the file has no symbol column."),
    timeframe: str | None = typer.Option(None, help="Timeframe; inferred from the spacing if omitted."),
    speed: str = typer.Option("max", help="'max', or N for N times real time (e.g. 60)."),
) -> None:
    """Replay a file of bars at full speed or N times real time."""
    _run(FileSource(path, symbol=symbol, timeframe=timeframe, speed=speed))


@app.command()
def synthetic(
    symbols: int = typer.Option(20, min=1, help="How many symbols (SYN000USDT, SYN001USDT, ...)."),
    bars: int = typer.Option(100_000, min=1, help="Bars per symbol."),
    timeframe: str = typer.Option("1m"),
    seed: int = typer.Option(7),
    speed: str = typer.Option("max"),
) -> None:
    """Seeded synthetic bars for many symbols (regime-switching volatility and drift)."""
    _run(SyntheticSource(symbols, bars, timeframe, seed, speed=speed), total=symbols * bars)


@app.command()
def sample(
    names: str = typer.Argument(
        "sp500", help=f"One or more (comma-separated, reference first) of: {', '.join(available_samples())}."
    ),
    last: int | None = typer.Option(None, min=1, help="Only each symbol's latest N bars."),
    speed: str = typer.Option("max"),
) -> None:
    """Real OHLCV histories shipped inside installed PyPI packages (arch, backtesting), merged by time."""
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in available_samples()]
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown sample {unknown}; available: {', '.join(available_samples())}")
    source = sample_source(chosen, last=last, speed=speed)
    _run(source, total=source.count(), validator=BarValidator(calendars=source.calendars))
