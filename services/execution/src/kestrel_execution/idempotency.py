"""The Redis fast path of order idempotency: `order:idem:{client_order_id}`, SET NX with a TTL.

Redis only says "probably seen": the key is set before the order is stored, so after a crash in
between Redis says seen while PostgreSQL has nothing. The handler therefore asks PostgreSQL (the
truth, UNIQUE client_order_id) whenever the key exists, and the insert itself is ON CONFLICT DO
NOTHING, so two consumers racing on one order still store and trade it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis

from kestrel_contracts.registry import namespace


def idempotency_key(client_order_id: str) -> str:
    ns = namespace()
    key = f"order:idem:{client_order_id}"
    return f"{ns}.{key}" if ns else key


class IdempotencyGuard(Protocol):
    async def claim_many(self, client_order_ids: Sequence[str]) -> list[bool]:
        """Per id, True when this is its first sighting (the key was absent and is now set)."""
        ...


class RedisIdempotency:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self._client, self._ttl_s = client, ttl_s

    async def claim_many(self, client_order_ids: Sequence[str]) -> list[bool]:
        if not client_order_ids:
            return []
        async with self._client.pipeline(transaction=False) as pipe:  # one round trip for the batch
            for client_order_id in client_order_ids:
                pipe.set(idempotency_key(client_order_id), b"1", nx=True, ex=self._ttl_s)
            created = await pipe.execute()
        return [bool(c) for c in created]


class MemoryIdempotency:
    """In-process stand-in for tests and tools."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def claim_many(self, client_order_ids: Sequence[str]) -> list[bool]:
        out = []
        for client_order_id in client_order_ids:
            out.append(client_order_id not in self.seen)
            self.seen.add(client_order_id)
        return out
