"""What the HTTP handlers share for the life of the process: store pool, Redis (kill switch, the
production controller's board, rate limits), Kafka, live feed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as aioredis
from google.protobuf.message import Message

from kestrel_contracts.registry import channel
from kestrel_gateway.adapters.rate_limiter import RedisRateLimiter
from kestrel_gateway.errors import ApiError
from kestrel_gateway.live_feed import LiveFeed
from kestrel_gateway.settings import GatewaySettings
from kestrel_messaging import MessageBus
from kestrel_platform.control_store import RedisControl
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.kill_switch import KillSwitch

__all__ = ["PUBLISH_TIMEOUT_S", "GatewayRuntime"]

PUBLISH_TIMEOUT_S = 10.0


@dataclass
class GatewayRuntime:
    """`store` is None until the first connection to PostgreSQL succeeded: the HTTP server (and
    /health) come up first, and endpoints that need the store answer 503 until then."""

    settings: GatewaySettings
    store: asyncpg.Pool | None
    redis: aioredis.Redis
    bus: MessageBus
    feed: LiveFeed
    readiness: Mapping[str, ReadinessCheck]
    kill_switch: KillSwitch = field(init=False)
    control: RedisControl = field(init=False)
    rate_limiter: RedisRateLimiter | None = field(init=False)
    _ensured: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.kill_switch = KillSwitch(self.redis)
        self.control = RedisControl(self.redis)
        limit = self.settings.gateway_rate_limit_per_minute
        self.rate_limiter = RedisRateLimiter(self.redis, limit) if limit else None

    @property
    def pool(self) -> asyncpg.Pool:
        if self.store is None:
            raise ApiError(503, "store_unavailable", "not connected to PostgreSQL yet; see /ready")
        return self.store

    async def publish(self, channel_name: str, message: Message) -> None:
        """Publish to a registered channel, creating its topic on first use (idempotent).

        Bounded by PUBLISH_TIMEOUT_S so a request never hangs on a dead broker; a message that timed
        out here may still be delivered later, which is why callers must name retries idempotently.
        """
        async with asyncio.timeout(PUBLISH_TIMEOUT_S):
            await self.ensure_channel(channel_name)
            await self.bus.publish(channel(channel_name), message)

    async def ensure_channel(self, channel_name: str) -> None:
        """Create a registered channel's topic once per process; for callers that publish on the bus
        directly (the bar upload hands the bus to the ingestion pipeline)."""
        target = channel(channel_name)
        if target.name not in self._ensured:
            await self.bus.ensure_channel(target)
            self._ensured.add(target.name)
