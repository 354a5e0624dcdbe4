"""When Kafka refuses a manual order the client gets a 503 saying to retry, never a silent 202.

The app runs on real PostgreSQL and Redis (authentication, rate limiting) with a bus that fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
import pytest
import redis.asyncio as aioredis
from google.protobuf.message import Message

from kestrel_contracts.registry import Channel
from kestrel_gateway.adapters.key_store import create_key
from kestrel_gateway.keys import Role
from kestrel_gateway.live_feed import LiveFeed
from kestrel_gateway.runtime import GatewayRuntime
from kestrel_gateway.service import GatewayServer
from kestrel_gateway.settings import GatewaySettings
from kestrel_messaging import InMemoryBus
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration


class _BrokenBus(InMemoryBus):
    async def publish(
        self,
        channel: Channel,
        message: Message,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        raise ConnectionError("broker unreachable")


async def test_an_order_kafka_did_not_take_is_503_with_the_advice_to_retry(
    migrated_database_url: str, redis_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-gateway-{unique}")
    settings = GatewaySettings(http_port=0, database_url=migrated_database_url, redis_url=redis_url)
    pool = await create_pool(migrated_database_url, min_size=1, max_size=2)
    client = aioredis.Redis.from_url(redis_url)
    stop = asyncio.Event()
    issued, _ = await create_key(pool, "trader", Role.TRADER)
    server = GatewayServer(GatewayRuntime(settings, pool, client, _BrokenBus(), LiveFeed(10), {}))
    task = asyncio.create_task(server.run(stop))
    try:
        order = {"symbol": "BTC/USDT", "side": "BUY", "quantity": "1"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{server.port}/api/orders", json=order, headers={"X-API-Key": issued.key}
            ) as response,
        ):
            assert response.status == 503
            body = await response.json()
        assert body["error"] == "publish_failed" and "Idempotency-Key" in body["detail"]
    finally:
        stop.set()
        await task
        await client.aclose()
        await pool.close()
