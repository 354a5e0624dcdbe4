"""Per-API-key rate limiting on Redis: two fixed-window counters per key (see `ratelimit`).

Counters live in Redis so every gateway replica enforces one shared limit. A denied request is not
counted (its increment is undone), so Retry-After is honest for a client that waits as told.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis.asyncio as aioredis

from kestrel_contracts.registry import namespace
from kestrel_gateway.ratelimit import RateDecision, decide, window_index

__all__ = ["WINDOW_S", "RedisRateLimiter"]

WINDOW_S = 60


class RedisRateLimiter:
    def __init__(
        self,
        client: aioredis.Redis,
        limit: int,
        *,
        window_s: int = WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client, self._limit, self._window_s, self._clock = client, limit, window_s, clock
        ns = namespace()
        # The channel namespace keeps parallel deployments (and tests) sharing one Redis apart.
        self._prefix = f"{ns}.kestrel:gateway:ratelimit" if ns else "kestrel:gateway:ratelimit"

    @property
    def limit(self) -> int:
        return self._limit

    def _key(self, subject: str, window: int) -> str:
        return f"{self._prefix}:{subject}:{window}"

    async def hit(self, subject: str) -> RateDecision:
        now = self._clock()
        window = window_index(now, self._window_s)
        current_key = self._key(subject, window)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(current_key)
            pipe.expire(current_key, self._window_s * 2)
            pipe.get(self._key(subject, window - 1))
            counted, _, previous = await pipe.execute()
        decision = decide(now, self._window_s, self._limit, int(previous or 0), int(counted) - 1)
        if not decision.allowed:
            await self._client.decr(current_key)
        return decision
