"""The gateway in-process on REAL PostgreSQL, Redis and Kafka, for the integration tests.

`gateway` starts `service.serve` (uvicorn, the feed consumer, the pool) on a free port against a
fresh, migrated database and a unique channel namespace, and gives the tests keys of each role.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest

from kestrel_gateway.adapters.key_store import create_key
from kestrel_gateway.keys import Role
from kestrel_gateway.service import serve
from kestrel_gateway.settings import GatewaySettings
from kestrel_gateway.testing import Gateway, free_port, until
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool


@pytest.fixture
async def migrated_database_url(fresh_database_url: str) -> str:
    await apply_migrations(fresh_database_url)
    return fresh_database_url


@pytest.fixture
def rate_limit_per_minute() -> int:
    return 1000


@pytest.fixture
async def gateway(
    migrated_database_url: str,
    redis_url: str,
    kafka_bootstrap: str,
    mlflow_tracking_uri: str,
    unique: str,
    rate_limit_per_minute: int,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Gateway]:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-gateway-{unique}")
    settings = GatewaySettings(
        http_port=free_port(),
        database_url=migrated_database_url,
        redis_url=redis_url,
        kafka_bootstrap=kafka_bootstrap,
        mlflow_tracking_uri=mlflow_tracking_uri,
        gateway_rate_limit_per_minute=rate_limit_per_minute,
        gateway_cors_origins="http://dashboard.example",
    )
    pool = await create_pool(migrated_database_url, min_size=1, max_size=1)
    try:
        issued = {role: (await create_key(pool, f"test-{role.value}", role))[0] for role in Role}
    finally:
        await pool.close()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    url = f"http://127.0.0.1:{settings.http_port}"

    async def ready() -> bool:
        if task.done():
            task.result()  # surface a startup failure
        with contextlib.suppress(aiohttp.ClientError):
            async with aiohttp.ClientSession() as http, http.get(f"{url}/ready") as response:
                return response.status == 200
        return False

    await until(ready, 30, "gateway ready")
    try:
        yield Gateway(
            url, settings, {r: k.key for r, k in issued.items()}, {r: k.key_id for r, k in issued.items()}
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
