"""HealthServer on an ephemeral port: liveness, readiness with failing and slow checks, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from kestrel_platform.health import HealthServer
from kestrel_platform.metrics import counter


async def passes() -> None:
    await asyncio.sleep(0)


async def refuses() -> None:
    raise ConnectionRefusedError("redis at 127.0.0.1:16379 refused")


async def hangs() -> None:
    await asyncio.sleep(30)


async def fetch(server: HealthServer, path: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as session, session.get(server.url + path) as response:
        text = await response.text()
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, text, body


@pytest.fixture
async def running() -> AsyncIterator[HealthServer]:
    server = HealthServer("127.0.0.1", 0, {"kafka": passes}, check_timeout_s=0.2)
    await server.start()
    yield server
    await server.stop()


async def test_port_zero_binds_a_real_port(running: HealthServer) -> None:
    assert running.port > 0
    assert running.url == f"http://127.0.0.1:{running.port}"


async def test_health_is_200(running: HealthServer) -> None:
    status, _, body = await fetch(running, "/health")
    assert status == 200
    assert body == {"status": "ok"}


async def test_ready_is_200_when_every_check_passes(running: HealthServer) -> None:
    status, _, body = await fetch(running, "/ready")
    assert status == 200
    assert body["status"] == "ready"
    assert body["checks"] == {"kafka": "ok"}
    assert body["failing"] == {}


async def test_ready_is_503_naming_failing_and_slow_checks() -> None:
    async with HealthServer(
        "127.0.0.1", 0, {"kafka": passes, "redis": refuses, "postgres": hangs}, check_timeout_s=0.2
    ) as server:
        started = asyncio.get_running_loop().time()
        status, _, body = await fetch(server, "/ready")
        elapsed = asyncio.get_running_loop().time() - started

    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"] == {"kafka": "ok", "redis": "failing", "postgres": "failing"}
    assert body["failing"] == {
        "redis": "ConnectionRefusedError: redis at 127.0.0.1:16379 refused",
        "postgres": "timed out after 0.2s",
    }
    # Checks run concurrently and the slow one is cut off at its timeout, not after 30 s.
    assert elapsed < 5


async def test_checks_added_later_are_run(running: HealthServer) -> None:
    running.add_check("mlflow", refuses)

    status, _, body = await fetch(running, "/ready")

    assert status == 503
    assert set(body["failing"]) == {"mlflow"}


async def test_metrics_serves_registered_metrics_in_text_format(running: HealthServer) -> None:
    counter("platform_test_messages", "Messages seen by the health test.", ["topic"]).labels("bars").inc(3)

    status, text, _ = await fetch(running, "/metrics")

    assert status == 200
    assert "# TYPE platform_test_messages_total counter" in text
    assert 'platform_test_messages_total{topic="bars"}' in text


async def test_stop_releases_the_port() -> None:
    server = HealthServer("127.0.0.1", 0)
    await server.start()
    port = server.port
    await server.stop()

    with pytest.raises(RuntimeError):
        _ = server.port
    again = HealthServer("127.0.0.1", port)
    await again.start()
    assert again.port == port
    await again.stop()
