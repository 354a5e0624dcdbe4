"""Helpers for the gateway's integration tests (and anyone driving a gateway in-process)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

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

__all__ = ["BrokenBus", "Gateway", "free_port", "gateway_without_kafka", "until"]


@dataclass
class Gateway:
    """A running gateway: its base URL, settings, and one full key (and its id) per role."""

    url: str
    settings: GatewaySettings
    keys: dict[Role, str]
    key_ids: dict[Role, str]

    def headers(self, role: Role) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout_s}s")


class BrokenBus(InMemoryBus):
    """A bus whose broker is unreachable: every publish fails."""

    async def publish(
        self,
        channel: Channel,
        message: Message,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        raise ConnectionError("broker unreachable")


@contextlib.asynccontextmanager
async def gateway_without_kafka(
    database_url: str, redis_url: str, role: Role
) -> AsyncIterator[tuple[str, str, aioredis.Redis]]:
    """An in-process gateway on real PostgreSQL and Redis whose Kafka refuses everything:
    (base URL, an API key of `role`, the Redis client it writes)."""
    settings = GatewaySettings(http_port=0, database_url=database_url, redis_url=redis_url)
    pool = await create_pool(database_url, min_size=1, max_size=2)
    client = aioredis.Redis.from_url(redis_url)
    stop = asyncio.Event()
    try:
        issued, _ = await create_key(pool, role.value, role)
        server = GatewayServer(GatewayRuntime(settings, pool, client, BrokenBus(), LiveFeed(10), {}))
        task = asyncio.create_task(server.run(stop))
        try:
            yield f"http://127.0.0.1:{server.port}", issued.key, client
        finally:
            stop.set()
            await task
    finally:
        await client.aclose()
        await pool.close()
