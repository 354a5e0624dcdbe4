"""When Kafka refuses a manual order the client gets a 503 saying to retry, never a silent 202.

The app runs on real PostgreSQL and Redis (authentication, rate limiting) with a bus that fails.
"""

from __future__ import annotations

import aiohttp
import pytest

from kestrel_gateway.keys import Role
from kestrel_gateway.testing import gateway_without_kafka

pytestmark = pytest.mark.integration


async def test_an_order_kafka_did_not_take_is_503_with_the_advice_to_retry(
    migrated_database_url: str, redis_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-gateway-{unique}")
    async with gateway_without_kafka(migrated_database_url, redis_url, Role.TRADER) as (url, key, _):
        order = {"symbol": "BTC/USDT", "side": "BUY", "quantity": "1"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/api/orders", json=order, headers={"X-API-Key": key}) as response,
        ):
            assert response.status == 503
            body = await response.json()
        assert body["error"] == "publish_failed" and "Idempotency-Key" in body["detail"]
