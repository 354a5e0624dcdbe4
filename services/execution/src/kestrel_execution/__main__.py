"""`python -m kestrel_execution`: the execution service process on uvloop (wiring in `service.py`)."""

from __future__ import annotations

import asyncio

import uvloop

from kestrel_execution.binance.rest import BinanceRest
from kestrel_execution.binance.signing import load_credentials
from kestrel_execution.binance.venue import BinanceVenue
from kestrel_execution.paper_venue import PaperVenue
from kestrel_execution.service import readiness_checks, serve
from kestrel_execution.settings import ExecutionSettings
from kestrel_execution.venue import Venue
from kestrel_platform.service import start_service

__all__ = ["build_venue", "main", "readiness_checks"]


def build_venue(settings: ExecutionSettings) -> Venue:
    """The venue adapter, chosen here once; the service only knows the Venue interface."""
    if settings.broker == "paper":
        return PaperVenue(settings.paper_config(), settings.bars_consumer_group)
    credentials = load_credentials(
        api_key=settings.binance_api_key,
        api_secret=settings.binance_api_secret,
        private_key_file=settings.binance_private_key_file,
        secrets_file=settings.binance_secrets_file,
    )
    rest = BinanceRest(
        settings.binance_rest_url, credentials, recv_window_ms=settings.binance_recv_window_ms,
        timeout_s=settings.binance_timeout_s,
    )  # fmt: skip
    return BinanceVenue(
        rest, credentials, settings.binance_ws_api_url, recv_window_ms=settings.binance_recv_window_ms,
        rules_refresh_s=settings.binance_rules_refresh_s,
    )  # fmt: skip


async def run(settings: ExecutionSettings, stop: asyncio.Event) -> None:
    await serve(settings, stop, build_venue(settings))


def main() -> None:
    start_service(ExecutionSettings, "kestrel-execution", run, loop_factory=uvloop.new_event_loop)


if __name__ == "__main__":
    main()
