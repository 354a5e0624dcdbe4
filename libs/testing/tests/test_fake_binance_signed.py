"""The fake Binance's SIGNED REST API: keys, signatures (HMAC and Ed25519) and recvWindow, order
placement/query/cancel with their documented wire fields, queries, account, weights, order counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kestrel_testing.fake_binance import FakeApiKey, FakeBinance
from kestrel_testing.fake_binance_client import SignedClient, ed25519_signer, hmac_signer

NOW = 1_704_067_200_000
KEY, SECRET = "test-key", "test-secret"
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}


@asynccontextmanager
async def trading(**kwargs: Any) -> AsyncIterator[tuple[FakeBinance, SignedClient]]:
    keys = [FakeApiKey.hmac(KEY, SECRET), *kwargs.pop("extra_keys", [])]
    balances = kwargs.pop("balances", {"USDT": "100000", "BTC": "1"})
    async with (
        FakeBinance({"BTCUSDT": []}, now_ms=NOW, api_keys=keys, balances=balances, **kwargs) as fake,
        aiohttp.ClientSession() as session,
    ):
        fake.set_book("BTCUSDT", bids=[("99", "1")], asks=[("100", "1"), ("101", "1")])
        yield fake, SignedClient(session, fake.rest_url, KEY, hmac_signer(SECRET), clock_ms=lambda: NOW)


def other_client(client: SignedClient, api_key: str | None, secret: str = SECRET) -> SignedClient:
    return SignedClient(
        client.session, client.base_url, api_key, hmac_signer(secret), clock_ms=client.clock_ms
    )


@pytest.mark.parametrize(
    ("change", "status", "code", "msg"),
    [
        ({"api_key": None}, 401, -2014, "API-key format invalid."),
        ({"api_key": "nobody"}, 401, -2015, "Invalid API-key, IP, or permissions for action."),
        ({"secret": "wrong"}, 400, -1022, "Signature for this request is not valid."),
    ],
)
async def test_keys_and_signatures_are_checked(
    change: dict[str, Any], status: int, code: int, msg: str
) -> None:
    async with trading() as (fake, client):
        caller = other_client(client, change.get("api_key", KEY), change.get("secret", SECRET))
        got = await caller.call("GET", "/api/v3/account")
    assert (got[0], got[2]) == (status, {"code": code, "msg": msg})
    assert fake.requests[-1].status == status


async def test_timestamp_must_fall_inside_the_recv_window_of_the_server_clock() -> None:
    outside = {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
    async with trading() as (fake, client):
        ahead = await client.call("GET", "/api/v3/account", timestamp=NOW + 1000)
        just_ahead = await client.call("GET", "/api/v3/account", timestamp=NOW + 999)
        stale = await client.call("GET", "/api/v3/account", timestamp=NOW - 5001)
        widened = await client.call("GET", "/api/v3/account", timestamp=NOW - 5001, recv_window=6000)
        too_wide = await client.call("GET", "/api/v3/account", recv_window=60001)
        fake.clock_offset_ms = -10_000  # the server's clock runs 10 s behind the client's
        skewed = await client.call("GET", "/api/v3/account")
        async with client.session.get(f"{fake.rest_url}/api/v3/time") as response:
            server_time = await response.json()
    assert (ahead[0], ahead[2]) == (400, outside) and (stale[0], stale[2]) == (400, outside)
    assert just_ahead[0] == 200 and widened[0] == 200
    assert too_wide[2] == {"code": -1131, "msg": "recvWindow must be less than 60000"}
    assert (skewed[0], skewed[2]) == (400, outside)
    assert server_time == {"serverTime": NOW - 10_000}


async def test_ed25519_signature_over_query_plus_body_as_sent() -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    keys = [FakeApiKey.ed25519("ed-key", pem), FakeApiKey.ed25519("ed-obj", private.public_key())]
    async with trading(extra_keys=keys) as (fake, client):
        signer = SignedClient(
            client.session, client.base_url, "ed-key", ed25519_signer(private), clock_ms=lambda: NOW
        )
        split = {"quantity": "0.5", "price": "90", "newClientOrderId": "ed-1"}
        status, _, body = await signer.call("POST", "/api/v3/order", ORDER, body=split)
        other = SignedClient(
            client.session, client.base_url, "ed-obj", ed25519_signer(private), clock_ms=lambda: NOW
        )
        ok = await other.call("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
        forged = await other.call("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, signature="AAAA")
    assert (status, body.get("clientOrderId"), body.get("status")) == (200, "ed-1", "NEW"), body
    assert ok[0] == 200 and [o["clientOrderId"] for o in ok[2]] == ["ed-1"]
    assert forged[2]["code"] == -1022
    recorded = fake.requests[0]
    assert recorded.method == "POST" and recorded.query["symbol"] == "BTCUSDT"
    assert recorded.body["quantity"] == "0.5" and "signature" in recorded.body
    assert recorded.params["newClientOrderId"] == "ed-1" and recorded.params["side"] == "BUY"


async def test_new_order_full_response_lists_fills_and_carries_weight_and_order_count_headers() -> None:
    async with trading() as (fake, client):
        params = {**ORDER, "quantity": "1.5", "price": "100.50", "newClientOrderId": "c-1"}
        status, headers, body = await client.call("POST", "/api/v3/order", params)
    assert status == 200
    assert headers["X-MBX-ORDER-COUNT-10S"] == "1" and headers["X-MBX-ORDER-COUNT-1D"] == "1"
    assert headers["X-MBX-USED-WEIGHT-1M"] == "1"
    assert body == {
        "symbol": "BTCUSDT",
        "orderId": 1,
        "orderListId": -1,
        "clientOrderId": "c-1",
        "transactTime": NOW,
        "price": "100.50000000",
        "origQty": "1.50000000",
        "executedQty": "1.00000000",
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "100.00000000",
        "status": "PARTIALLY_FILLED",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "workingTime": NOW,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "fills": [
            {
                "price": "100.00000000",
                "qty": "1.00000000",
                "commission": "0.00100000",
                "commissionAsset": "BTC",
                "tradeId": 1,
            }
        ],
    }
    assert fake.exchange.order_by_client_id("c-1") is not None


async def test_ack_and_result_responses_and_a_generated_client_id() -> None:
    async with trading(balances={"BTC": "2"}) as (_, client):
        base = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.5"}
        _, _, ack = await client.call("POST", "/api/v3/order", {**base, "newOrderRespType": "ACK"})
        rest = {**base, "quantity": "1", "newOrderRespType": "RESULT"}
        _, _, result = await client.call("POST", "/api/v3/order", rest)
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert len(ack["clientOrderId"]) == 22
    assert "fills" not in result and result["status"] == "EXPIRED"  # 0.5 was left of the 99 bid
    assert (result["executedQty"], result["cummulativeQuoteQty"]) == ("0.50000000", "49.50000000")


_DECIMALS = "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'"
_LIMIT_1 = {**ORDER, "quantity": "1", "price": "10"}


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        (
            {"symbol": "BTCUSDT", "type": "MARKET", "quantity": "1"},
            -1102,
            "Mandatory parameter 'side' was not sent, was empty/null, or malformed.",
        ),
        ({**_LIMIT_1, "type": "STOP"}, -1116, "Invalid orderType."),
        ({**_LIMIT_1, "timeInForce": "GTX"}, -1115, "Invalid timeInForce."),
        (
            {**_LIMIT_1, "quantity": "1e3"},
            -1100,
            f"Illegal characters found in parameter 'quantity'; legal range is {_DECIMALS}.",
        ),
        (
            {**_LIMIT_1, "foo": "1"},
            -1104,
            "Not all sent parameters were read; read '8' parameter(s) but was sent '9'.",
        ),
        ({**_LIMIT_1, "symbol": "NOPEUSDT"}, -1121, "Invalid symbol."),
        (
            {**_LIMIT_1, "newOrderRespType": "ALL"},
            -1130,
            "Data sent for parameter 'newOrderRespType' is not valid.",
        ),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"},
            -1102,
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        ),
        ({**_LIMIT_1, "price": "100.001"}, -1013, "Filter failure: PRICE_FILTER"),
        (
            {**_LIMIT_1, "quantity": "2000", "price": "100"},
            -2010,
            "Account has insufficient balance for requested action.",
        ),
    ],
)
async def test_new_order_parameter_filter_and_balance_errors(
    params: dict[str, str], code: int, msg: str
) -> None:
    async with trading() as (fake, client):
        status, headers, body = await client.call("POST", "/api/v3/order", params)
    assert (status, body) == (400, {"code": code, "msg": msg})
    assert fake.executed_placements == 0
    if code in {-1013, -2010}:  # reached the engine: counted and answered with the counts
        assert headers["X-MBX-ORDER-COUNT-10S"] == "1"


async def test_query_cancel_and_the_order_lists() -> None:
    async with trading() as (_, client):
        await client.call(
            "POST", "/api/v3/order", {**ORDER, "quantity": "2", "price": "100", "newClientOrderId": "a"}
        )
        await client.call(
            "POST", "/api/v3/order", {**ORDER, "quantity": "1", "price": "50", "newClientOrderId": "b"}
        )
        got = await client.call("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "a"})
        missing = await client.call("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": "9"})
        canceled = await client.call(
            "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": "2", "newClientOrderId": "cxl"}
        )
        again = await client.call("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": "2"})
        opened = await client.call("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
        everywhere = await client.call("GET", "/api/v3/openOrders")
        every = await client.call("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"})
    assert got[1]["X-MBX-USED-WEIGHT-1M"] == "6"  # 1 + 1 + 4
    assert got[2] == {
        "symbol": "BTCUSDT", "orderId": 1, "orderListId": -1, "clientOrderId": "a",
        "price": "100.00000000", "origQty": "2.00000000", "executedQty": "1.00000000",
        "cummulativeQuoteQty": "100.00000000", "status": "PARTIALLY_FILLED", "timeInForce": "GTC",
        "type": "LIMIT", "side": "BUY", "stopPrice": "0.00000000", "icebergQty": "0.00000000",
        "time": NOW, "updateTime": NOW, "isWorking": True, "workingTime": NOW,
        "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "EXPIRE_MAKER",
    }  # fmt: skip
    assert (missing[0], missing[2]) == (400, {"code": -2013, "msg": "Order does not exist."})
    assert canceled[2] == {
        "symbol": "BTCUSDT", "origClientOrderId": "b", "orderId": 2, "orderListId": -1,
        "clientOrderId": "cxl", "transactTime": NOW, "price": "50.00000000", "origQty": "1.00000000",
        "executedQty": "0.00000000", "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000", "status": "CANCELED", "timeInForce": "GTC",
        "type": "LIMIT", "side": "BUY", "selfTradePreventionMode": "EXPIRE_MAKER",
    }  # fmt: skip
    assert (again[0], again[2]) == (400, {"code": -2011, "msg": "Unknown order sent."})
    assert [o["orderId"] for o in opened[2]] == [1] and opened[1]["X-MBX-USED-WEIGHT-1M"] == "18"
    assert everywhere[1]["X-MBX-USED-WEIGHT-1M"] == "98"  # openOrders without a symbol: 80
    assert [(o["orderId"], o["status"]) for o in every[2]] == [(1, "PARTIALLY_FILLED"), (2, "CANCELED")]


async def test_my_trades_and_account() -> None:
    async with trading() as (_, client):
        await client.call(
            "POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1.5"}
        )
        trades = await client.call("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
        by_order = await client.call("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": "1"})
        from_id = await client.call(
            "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": "2", "limit": "5"}
        )
        account = await client.call("GET", "/api/v3/account", {"omitZeroBalances": "true"})
    assert trades[2][0] == {
        "symbol": "BTCUSDT", "id": 1, "orderId": 1, "orderListId": -1, "price": "100.00000000",
        "qty": "1.00000000", "quoteQty": "100.00000000", "commission": "0.00100000",
        "commissionAsset": "BTC", "time": NOW, "isBuyer": True, "isMaker": False, "isBestMatch": True,
    }  # fmt: skip
    assert [t["id"] for t in trades[2]] == [1, 2] and trades[1]["X-MBX-USED-WEIGHT-1M"] == "21"
    assert by_order[1]["X-MBX-USED-WEIGHT-1M"] == "26"  # with orderId: 5
    assert [t["id"] for t in from_id[2]] == [2]
    assert account[2]["balances"] == [
        {"asset": "BTC", "free": "2.49850000", "locked": "0.00000000"},
        {"asset": "USDT", "free": "99849.50000000", "locked": "0.00000000"},
    ]
    assert account[2]["accountType"] == "SPOT" and account[2]["commissionRates"]["taker"] == "0.00100000"


async def test_too_many_new_orders_is_a_429_with_retry_after_and_is_not_executed() -> None:
    async with trading(order_limit_10s=2) as (fake, client):
        params = {**ORDER, "quantity": "0.1", "price": "90"}
        first = await client.call("POST", "/api/v3/order", params)
        second = await client.call("POST", "/api/v3/order", params)
        third = await client.call("POST", "/api/v3/order", params)
        async with client.session.get(f"{fake.rest_url}/api/v3/exchangeInfo") as response:
            info = await response.json()
    assert [first[1]["X-MBX-ORDER-COUNT-10S"], second[1]["X-MBX-ORDER-COUNT-10S"]] == ["1", "2"]
    assert third[0] == 429
    assert third[2] == {"code": -1015, "msg": "Too many new orders; current limit is 2 orders per 10 SECOND."}
    assert 1 <= int(third[1]["Retry-After"]) <= 10 and third[1]["X-MBX-ORDER-COUNT-10S"] == "2"
    assert fake.executed_placements == 2
    assert info["rateLimits"][1] == {
        "rateLimitType": "ORDERS",
        "interval": "SECOND",
        "intervalNum": 10,
        "limit": 2,
    }
