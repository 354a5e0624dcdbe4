"""`python -m kestrel_execution`: the execution service process on uvloop (wiring in `service.py`)."""

from __future__ import annotations

import asyncio

import uvloop

from kestrel_execution.broker import PaperBroker
from kestrel_execution.service import readiness_checks, serve
from kestrel_execution.settings import ExecutionSettings
from kestrel_platform.service import start_service

__all__ = ["main", "readiness_checks"]


async def run(settings: ExecutionSettings, stop: asyncio.Event) -> None:
    # The broker adapter is chosen here, once; the service only knows the Broker interface.
    await serve(settings, stop, PaperBroker(settings.paper_config()))


def main() -> None:
    start_service(ExecutionSettings, "kestrel-execution", run, loop_factory=uvloop.new_event_loop)


if __name__ == "__main__":
    main()
