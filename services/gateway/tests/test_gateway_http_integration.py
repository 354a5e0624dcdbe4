"""Authentication, roles, validation and the operational endpoints, over HTTP on the real stack."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway

pytestmark = pytest.mark.integration


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    body: dict[str, Any] = await response.json()
    return body


async def test_no_key_a_malformed_key_and_a_wrong_secret_are_401_with_a_reason(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    url = f"{gateway.url}/api/signals"
    async with http.get(url) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = await _json(response)
        assert body["error"] == "unauthorized" and "API key is required" in body["detail"]
    async with http.get(url, headers={"X-API-Key": "hunter2"}) as response:
        assert response.status == 401 and "not a Kestrel API key" in (await _json(response))["detail"]
    wrong = gateway.keys[Role.ADMIN][:-4] + "AAAA"
    async with http.get(url, headers={"X-API-Key": wrong}) as response:
        assert response.status == 401 and "unknown, revoked or wrong" in (await _json(response))["detail"]


async def test_a_weaker_role_is_403_and_bearer_keys_work(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    order = {"symbol": "BTC/USDT", "side": "BUY", "quantity": "0.1"}
    async with http.post(
        f"{gateway.url}/api/orders", json=order, headers=gateway.headers(Role.VIEWER)
    ) as response:
        assert response.status == 403
        body = await _json(response)
        assert body["error"] == "forbidden" and "trader" in body["detail"]
    switch = {"engaged": True, "reason": "test"}
    async with http.post(
        f"{gateway.url}/api/risk/kill-switch", json=switch, headers=gateway.headers(Role.TRADER)
    ) as response:
        assert response.status == 403 and "admin" in (await _json(response))["detail"]
    bearer = {"Authorization": f"Bearer {gateway.keys[Role.VIEWER]}"}
    async with http.get(f"{gateway.url}/api/risk/kill-switch", headers=bearer) as response:
        assert response.status == 200 and (await _json(response))["engaged"] is False


async def test_invalid_requests_are_422_naming_the_field(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    headers = gateway.headers(Role.TRADER)
    float_quantity = {"symbol": "BTC/USDT", "side": "BUY", "quantity": 0.1}
    async with http.post(f"{gateway.url}/api/orders", json=float_quantity, headers=headers) as response:
        assert response.status == 422
        body = await _json(response)
        assert body["error"] == "invalid_request"
        assert (
            body["detail"][0]["loc"] == ["body", "quantity"] and "decimal string" in body["detail"][0]["msg"]
        )
    limit_without_price = {"symbol": "BTC/USDT", "side": "BUY", "quantity": "1", "order_type": "LIMIT"}
    async with http.post(f"{gateway.url}/api/orders", json=limit_without_price, headers=headers) as response:
        assert response.status == 422 and "limit_price" in (await _json(response))["detail"][0]["msg"]
    async with http.get(f"{gateway.url}/api/bars?symbol=X&limit=0", headers=headers) as response:
        assert response.status == 422 and (await _json(response))["detail"][0]["loc"] == ["query", "limit"]
    async with http.get(f"{gateway.url}/api/bars", headers=headers) as response:  # symbol is required
        assert response.status == 422 and (await _json(response))["detail"][0]["loc"] == ["query", "symbol"]


async def test_unknown_routes_are_404_json(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{gateway.url}/api/nothing", headers=gateway.headers(Role.VIEWER)) as response:
        assert response.status == 404 and (await _json(response))["error"] == "not_found"


async def test_health_ready_metrics_and_openapi_share_the_port(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{gateway.url}/health") as response:
        assert response.status == 200 and (await _json(response)) == {"status": "ok"}
    async with http.get(f"{gateway.url}/ready") as response:
        body = await _json(response)
        assert response.status == 200, body
        assert body["checks"] == {"kafka": "ok", "redis": "ok", "postgres": "ok"}
    async with http.get(f"{gateway.url}/openapi.json") as response:
        paths = (await _json(response))["paths"]
        expected = {"/api/orders", "/api/portfolio/{account}", "/api/risk/kill-switch", "/api/control"}
        assert expected <= set(paths)
    async with http.get(f"{gateway.url}/docs") as response:
        assert response.status == 200 and "swagger" in (await response.text()).lower()
    async with http.get(
        f"{gateway.url}/api/portfolio/nobody", headers=gateway.headers(Role.VIEWER)
    ) as response:
        assert response.status == 404 and "nobody" in (await _json(response))["detail"]
    async with http.get(f"{gateway.url}/metrics") as response:
        text = await response.text()
    # The route template, not the raw path, labels the histogram.
    assert (
        'http_request_duration_ms_count{method="GET",route="/api/portfolio/{account}",status="404"}' in text
    )
    assert "/api/portfolio/nobody" not in text


async def test_cors_preflight_allows_the_configured_origin_only(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-API-Key"}
    async with http.options(
        f"{gateway.url}/api/signals", headers={**preflight, "Origin": "http://dashboard.example"}
    ) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://dashboard.example"
    async with http.options(
        f"{gateway.url}/api/signals", headers={**preflight, "Origin": "http://evil.example"}
    ) as response:
        assert response.status == 400 and "Access-Control-Allow-Origin" not in response.headers
