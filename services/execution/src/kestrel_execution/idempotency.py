"""The Redis fast path of order idempotency: `order:idem:{client_order_id}`, SET NX with a TTL.

Redis only says "probably seen": the key is set before the order is stored, so after a crash in
between Redis says seen while PostgreSQL has nothing. The handler therefore asks PostgreSQL (the
truth, UNIQUE client_order_id) whenever the key exists, and the insert itself is ON CONFLICT DO
NOTHING, so two consumers racing on one order still store and trade it once.
"""

from __future__ import annotations

from typing import Protocol

import redis.asyncio as aioredis

from kestrel_contracts.registry import namespace


def idempotency_key(client_order_id: str) -> str:
    ns = namespace()
    key = f"order:idem:{client_order_id}"
    return f"{ns}.{key}" if ns else key


class IdempotencyGuard(Protocol):
    async def claim(self, client_order_id: str) -> bool:
        """True when this is the first sighting of the id (the key was absent and is now set)."""
        ...


class RedisIdempotency:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self._client, self._ttl_s = client, ttl_s

    async def claim(self, client_order_id: str) -> bool:
        created = await self._client.set(idempotency_key(client_order_id), b"1", nx=True, ex=self._ttl_s)
        return bool(created)


class MemoryIdempotency:
    """In-process stand-in for tests and tools."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def claim(self, client_order_id: str) -> bool:
        if client_order_id in self.seen:
            return False
        self.seen.add(client_order_id)
        return True
