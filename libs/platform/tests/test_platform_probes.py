"""Readiness probes: they pass against the real servers and fail, in time, with the cause otherwise."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from kestrel_platform.health import ReadinessCheck
from kestrel_platform.probes import (
    PROBE_TIMEOUT_S,
    _without_password,
    http_probe,
    kafka_probe,
    mlflow_probe,
    postgres_probe,
    redis_probe,
)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def http_server() -> AsyncIterator[str]:
    """A loopback HTTP server: /ok answers 200, /broken 503."""

    async def ok(_request: web.Request) -> web.Response:
        return web.json_response({"experiments": []})

    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=503, text="backend store down")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    app.router.add_get("/api/2.0/mlflow/experiments/search", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_http_probe_passes_on_success_and_names_the_status_on_failure(http_server: str) -> None:
    await http_probe(f"{http_server}/ok")()
    with pytest.raises(RuntimeError, match="HTTP 503"):
        await http_probe(f"{http_server}/broken")()


async def test_mlflow_probe_calls_the_rest_api_not_just_health(http_server: str) -> None:
    await mlflow_probe(f"{http_server}/")()  # a trailing slash must not double up
    with pytest.raises(ValueError, match="tracking server URL"):
        mlflow_probe("file:///tmp/mlruns")


@pytest.mark.parametrize(
    "make_probe",
    [
        lambda port: kafka_probe(f"127.0.0.1:{port}"),
        lambda port: redis_probe(f"redis://127.0.0.1:{port}/0"),
        lambda port: postgres_probe(f"postgresql://kestrel:secret@127.0.0.1:{port}/kestrel"),
        lambda port: http_probe(f"http://127.0.0.1:{port}/health"),
    ],
    ids=["kafka", "redis", "postgres", "http"],
)
async def test_a_dependency_that_is_down_fails_within_the_probe_timeout(
    make_probe: Callable[[int], ReadinessCheck], closed_port: int
) -> None:
    probe = make_probe(closed_port)
    started = time.perf_counter()
    with pytest.raises(Exception) as caught:
        await probe()
    elapsed = time.perf_counter() - started
    assert elapsed < PROBE_TIMEOUT_S + 1.0
    assert "secret" not in str(caught.value)


def test_urls_in_probe_errors_have_their_password_masked() -> None:
    # /ready bodies and logs are read by people and scrapers that must not learn credentials.
    assert _without_password("redis://:hunter2@redis:6379/0") == "redis://:***@redis:6379/0"
    assert _without_password("postgresql://kestrel:pw@db/kestrel") == "postgresql://kestrel:***@db/kestrel"
    assert _without_password("redis://redis:6379/0") == "redis://redis:6379/0"


@pytest.mark.integration
async def test_kafka_probe_passes_against_the_real_broker(kafka_bootstrap: str) -> None:
    await kafka_probe(kafka_bootstrap)()


@pytest.mark.integration
async def test_redis_probe_passes_against_the_real_server(redis_url: str) -> None:
    await redis_probe(redis_url)()


@pytest.mark.integration
async def test_postgres_probe_passes_against_the_real_server(database_url: str) -> None:
    await postgres_probe(database_url)()


@pytest.mark.integration
async def test_mlflow_probe_passes_against_the_real_tracking_server(mlflow_tracking_uri: str) -> None:
    await mlflow_probe(mlflow_tracking_uri)()
