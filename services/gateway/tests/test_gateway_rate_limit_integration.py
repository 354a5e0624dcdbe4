"""The per-key rate limit on real Redis: 429 with Retry-After and a JSON reason, per key."""

from __future__ import annotations

import aiohttp
import pytest

from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway

pytestmark = pytest.mark.integration


@pytest.fixture
def rate_limit_per_minute() -> int:
    return 3


async def test_the_request_over_the_limit_is_429_with_retry_after(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    url = f"{gateway.url}/api/risk/kill-switch"
    for _ in range(3):
        async with http.get(url, headers=gateway.headers(Role.VIEWER)) as response:
            assert response.status == 200
    async with http.get(url, headers=gateway.headers(Role.VIEWER)) as response:
        assert response.status == 429
        retry_after = int(response.headers["Retry-After"])
        body = await response.json()
    assert 1 <= retry_after <= 120
    assert body["error"] == "rate_limited" and "3 requests per minute" in body["detail"]
    # Another key has its own budget.
    async with http.get(url, headers=gateway.headers(Role.TRADER)) as response:
        assert response.status == 200
