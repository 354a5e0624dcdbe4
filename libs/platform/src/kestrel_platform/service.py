"""The start of every service process, written once: settings, logging, tracing, build info, run.

A service's `__main__` names its settings class, its distribution and its `serve` coroutine; this
module does the rest in the same order everywhere, so no service can forget a step.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from importlib.metadata import version
from typing import TypeVar

from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.lifecycle import run_service
from kestrel_platform.logging import configure_logging, get_logger
from kestrel_platform.metrics import set_build_info
from kestrel_platform.settings import ServiceSettings, load_settings_or_exit
from kestrel_platform.tracing import configure_tracing

S = TypeVar("S", bound=ServiceSettings)


def start_service(
    settings_class: type[S],
    distribution: str,
    serve: Callable[[S, asyncio.Event], Awaitable[None]],
    *,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> None:
    """Load and validate settings (exit 2 naming bad variables), set up observability, run `serve`."""
    settings = load_settings_or_exit(settings_class)
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    set_build_info(settings.service_name, version(distribution), settings.environment)
    run_service(functools.partial(serve, settings), loop_factory=loop_factory)


async def serve_health_until_stopped(
    settings: ServiceSettings, readiness: Mapping[str, ReadinessCheck], stop: asyncio.Event
) -> None:
    """/health, /ready and /metrics until SIGTERM: the whole job of a service whose domain is to come."""
    async with HealthServer(settings.http_host, settings.http_port, readiness):
        get_logger(f"kestrel.{settings.service_name}").info(
            "service.started", host=settings.http_host, port=settings.http_port
        )
        await stop.wait()
