"""cancelReplace outcomes and the scripted faults of the trading side: executed-but-unanswered orders,
executed-then-503, forced -1021, and `fail_next` on the order endpoints (which does not execute)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from kestrel_testing.fake_binance import FakeApiKey, FakeBinance
from kestrel_testing.fake_binance_client import SignedClient, hmac_signer

NOW = 1_704_067_200_000
RESTING = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1"}
REPLACE = {**RESTING, "price": "95", "cancelReplaceMode": "STOP_ON_FAILURE", "newClientOrderId": "new"}


@asynccontextmanager
async def trading(usdt: str = "1000") -> AsyncIterator[tuple[FakeBinance, SignedClient]]:
    keys = [FakeApiKey.hmac("k", "s")]
    async with (
        FakeBinance({"BTCUSDT": []}, now_ms=NOW, api_keys=keys, balances={"USDT": usdt}) as fake,
        aiohttp.ClientSession() as session,
    ):
        yield fake, SignedClient(session, fake.rest_url, "k", hmac_signer("s"), clock_ms=lambda: NOW)


async def rest_one(client: SignedClient, coid: str = "old", price: str = "90") -> None:
    status, _, _ = await client.call(
        "POST", "/api/v3/order", {**RESTING, "price": price, "newClientOrderId": coid}
    )
    assert status == 200


async def test_cancel_replace_success_answers_both_halves() -> None:
    async with trading() as (fake, client):
        await rest_one(client)
        params = {**REPLACE, "cancelOrigClientOrderId": "old", "cancelNewClientOrderId": "cxl"}
        status, headers, body = await client.call("POST", "/api/v3/order/cancelReplace", params)
    assert status == 200 and headers["X-MBX-ORDER-COUNT-10S"] == "2"
    assert (body["cancelResult"], body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    cancel = body["cancelResponse"]
    assert (cancel["origClientOrderId"], cancel["clientOrderId"], cancel["status"]) == (
        "old",
        "cxl",
        "CANCELED",
    )
    new = body["newOrderResponse"]
    assert (new["clientOrderId"], new["orderId"], new["price"], new["status"]) == (
        "new",
        2,
        "95.00000000",
        "NEW",
    )
    assert [o.client_order_id for o in fake.exchange.open_orders()] == ["new"]
    assert fake.exchange.balances()["USDT"].locked == 95


async def test_cancel_replace_stop_on_failure_does_not_place_when_the_cancel_fails() -> None:
    async with trading() as (fake, client):
        params = {**REPLACE, "cancelOrderId": "7"}
        status, _, body = await client.call("POST", "/api/v3/order/cancelReplace", params)
    assert status == 400
    assert body == {
        "code": -2022,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": None,
        },
    }
    assert fake.executed_placements == 0


async def test_cancel_replace_partial_failures_are_409_and_both_failing_is_400() -> None:
    async with trading() as (fake, client):
        allow = {**REPLACE, "cancelReplaceMode": "ALLOW_FAILURE", "cancelOrderId": "7"}
        placed_anyway = await client.call("POST", "/api/v3/order/cancelReplace", allow)
        await rest_one(client, "old", "900")  # locks 900 of the 1000
        too_big = {**REPLACE, "quantity": "20", "newClientOrderId": "big", "cancelOrigClientOrderId": "old"}
        canceled_only = await client.call("POST", "/api/v3/order/cancelReplace", too_big)
        both = await client.call(
            "POST", "/api/v3/order/cancelReplace", {**too_big, "cancelReplaceMode": "ALLOW_FAILURE"}
        )
    assert placed_anyway[0] == 409 and placed_anyway[2]["code"] == -2021
    data = placed_anyway[2]["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert data["newOrderResponse"]["clientOrderId"] == "new"
    assert canceled_only[0] == 409
    assert canceled_only[2]["msg"] == "Order cancel-replace partially failed."
    data = canceled_only[2]["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["cancelResponse"]["origClientOrderId"] == "old"
    assert data["newOrderResponse"] == {
        "code": -2010,
        "msg": "Account has insufficient balance for requested action.",
    }
    assert both[0] == 400 and both[2]["code"] == -2022
    assert (both[2]["data"]["cancelResult"], both[2]["data"]["newOrderResult"]) == ("FAILURE", "FAILURE")
    assert [o.client_order_id for o in fake.exchange.open_orders()] == ["new"]


async def test_take_then_timeout_executes_but_the_client_times_out() -> None:
    async with trading() as (fake, client):
        fake.take_then_timeout_next(1, delay_s=5.0)
        with pytest.raises(asyncio.TimeoutError):
            await client.call(
                "POST", "/api/v3/order", {**RESTING, "price": "90", "newClientOrderId": "lost"}, timeout_s=0.3
            )
        order = fake.exchange.order_by_client_id("lost")
        after = await client.call("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "lost"})
    assert order is not None and order.status == "NEW" and fake.executed_placements == 1
    assert after[0] == 200 and after[2]["status"] == "NEW"


async def test_take_then_fail_executes_then_answers_503_minus_1007() -> None:
    async with trading() as (fake, client):
        fake.take_then_fail_next(1)
        failed = await client.call(
            "POST", "/api/v3/order", {**RESTING, "price": "90", "newClientOrderId": "unknown"}
        )
        fine = await client.call(
            "POST", "/api/v3/order", {**RESTING, "price": "90", "newClientOrderId": "next"}
        )
    assert failed[0] == 503
    assert failed[2] == {
        "code": -1007,
        "msg": "Timeout waiting for response from backend server. "
        "Send status unknown; execution status unknown.",
    }
    assert fine[0] == 200 and fake.executed_placements == 2
    assert fake.exchange.order_by_client_id("unknown") is not None


async def test_fail_next_on_an_order_endpoint_does_not_execute() -> None:
    async with trading() as (fake, client):
        fake.fail_next(1, 429, retry_after_s=3)
        fake.fail_next(1, 502)
        limited = await client.call("POST", "/api/v3/order", {**RESTING, "price": "90"})
        broken = await client.call("POST", "/api/v3/order", {**RESTING, "price": "90"})
    assert limited[0] == 429 and limited[1]["Retry-After"] == "3" and limited[2]["code"] == -1003
    assert broken[0] == 502 and fake.executed_placements == 0 and fake.exchange.open_orders() == []


async def test_reject_timestamp_next_forces_minus_1021_for_that_many_signed_requests() -> None:
    async with trading() as (fake, client):
        fake.reject_timestamp_next(2)
        first = await client.call("GET", "/api/v3/account")
        second = await client.call("GET", "/api/v3/openOrders")
        third = await client.call("GET", "/api/v3/account")
    assert [first[2]["code"], second[2]["code"]] == [-1021, -1021] and third[0] == 200
