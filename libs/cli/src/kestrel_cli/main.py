"""`kestrel`: one entry point, one subcommand per job."""

from __future__ import annotations

import asyncio

import typer

from kestrel_cli.settings import CliSettings
from kestrel_ingestion.cli import app as ingest_app

app = typer.Typer(
    help="Kestrel: event-driven trading platform.", no_args_is_help=True, pretty_exceptions_enable=False
)

app.add_typer(ingest_app, name="ingest")


@app.command()
def demo(
    symbol: str = typer.Option("SPX", help="Symbol of the bar pushed through the path."),
    timeout_s: float = typer.Option(60.0, help="Give up when the bar has not arrived by then."),
) -> None:
    """Push one market bar through Kafka to a consumer group and into PostgreSQL; print the summary."""
    from kestrel_cli.demo import run_demo  # noqa: PLC0415 - keep `kestrel --help` fast

    settings = CliSettings.load()
    raise typer.Exit(asyncio.run(run_demo(settings, symbol, timeout_s)))


@app.command()
def topics(
    action: str = typer.Argument("create", help="create | list"),
) -> None:
    """Create every registered Kafka topic and Redis stream (idempotent), or list them."""
    from kestrel_messaging.topics import create_all, describe  # noqa: PLC0415

    if action == "list":
        typer.echo(describe())
        return
    if action != "create":
        raise typer.BadParameter("action must be 'create' or 'list'")
    settings = CliSettings.load()
    created = asyncio.run(create_all(settings.kafka_bootstrap, settings.redis_url))
    typer.echo(f"created {len(created)} channel(s)" + (f": {', '.join(sorted(created))}" if created else ""))


if __name__ == "__main__":
    app()
