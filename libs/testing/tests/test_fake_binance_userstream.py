"""The user data stream over the fake's WebSocket API: signed subscribe, executionReport and
outboundAccountPosition events in engine order with every documented field, and a dropped socket."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kestrel_testing.fake_binance import FakeApiKey, FakeBinance
from kestrel_testing.fake_binance_client import SignedClient, hmac_signer, ws_signature_payload
from kestrel_testing.fake_binance_model import OrderRequest

NOW = 1_704_067_200_000
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
REPORT_FIELDS = set("eEscSofqpPFgCxXrilzLnNTtIwmMOZYQWV")  # every documented one-letter key


def subscribe_request(
    ident: int, api_key: str = "k", secret: str = "s", timestamp: int = NOW
) -> dict[str, Any]:
    params: dict[str, Any] = {"apiKey": api_key, "timestamp": timestamp}
    payload = ws_signature_payload(params)
    params["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return {"id": ident, "method": "userDataStream.subscribe.signature", "params": params}


async def receive(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[dict[str, Any]]:
    return [await ws.receive_json(timeout=2) for _ in range(count)]


async def test_subscribe_then_receive_every_event_of_placement_fill_and_cancel() -> None:
    keys = [FakeApiKey.hmac("k", "s")]
    async with (
        FakeBinance({"BTCUSDT": []}, now_ms=NOW, api_keys=keys, balances={"USDT": "1000"}) as fake,
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.ws_api_url) as ws,
    ):
        client = SignedClient(session, fake.rest_url, "k", hmac_signer("s"), clock_ms=lambda: NOW)
        await ws.send_json({"id": "p", "method": "ping"})
        await ws.send_json({"id": "t", "method": "time"})
        await ws.send_json(subscribe_request(1, secret="wrong"))
        await ws.send_json(subscribe_request(2))
        pong, clock, refused, subscribed = await receive(ws, 4)
        fake.set_book("BTCUSDT", asks=[("100", "1")])
        params = {**ORDER, "quantity": "2", "price": "100", "newClientOrderId": "mine"}
        await client.call("POST", "/api/v3/order", params)
        placed = await receive(ws, 3)  # NEW, TRADE, account
        fake.trade_through("BTCUSDT", "99", "0.5")
        traded = await receive(ws, 2)
        cancel = {"symbol": "BTCUSDT", "origClientOrderId": "mine", "newClientOrderId": "cxl-9"}
        await client.call("DELETE", "/api/v3/order", cancel)
        canceled = await receive(ws, 2)
    assert pong == {"id": "p", "status": 200, "result": {}, "rateLimits": pong["rateLimits"]}
    assert pong["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT" and pong["rateLimits"][0]["count"] == 1
    assert clock["result"] == {"serverTime": NOW}
    assert (refused["id"], refused["status"]) == (1, 400)
    assert refused["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
    assert (subscribed["status"], subscribed["result"]) == (200, {"subscriptionId": 0})
    assert {m["subscriptionId"] for m in placed + traded + canceled} == {0}
    new, trade, account = (m["event"] for m in placed)
    assert set(new) == REPORT_FIELDS
    assert new == {
        "e": "executionReport", "E": NOW, "s": "BTCUSDT", "c": "mine", "S": "BUY", "o": "LIMIT",
        "f": "GTC", "q": "2.00000000", "p": "100.00000000", "P": "0.00000000", "F": "0.00000000",
        "g": -1, "C": "", "x": "NEW", "X": "NEW", "r": "NONE", "i": 1, "l": "0.00000000",
        "z": "0.00000000", "L": "0.00000000", "n": "0", "N": None, "T": NOW, "t": -1, "I": 1,
        "w": True, "m": False, "M": False, "O": NOW, "Z": "0.00000000", "Y": "0.00000000",
        "Q": "0.00000000", "W": NOW, "V": "EXPIRE_MAKER",
    }  # fmt: skip
    assert (trade["x"], trade["X"], trade["l"], trade["L"], trade["t"], trade["m"]) == (
        "TRADE", "PARTIALLY_FILLED", "1.00000000", "100.00000000", 1, False,
    )  # fmt: skip
    assert (trade["n"], trade["N"], trade["Y"], trade["z"], trade["Z"]) == (
        "0.00100000", "BTC", "100.00000000", "1.00000000", "100.00000000",
    )  # fmt: skip
    assert account == {
        "e": "outboundAccountPosition",
        "E": NOW,
        "u": NOW,
        "B": [
            {"a": "USDT", "f": "800.00000000", "l": "100.00000000"},
            {"a": "BTC", "f": "0.99900000", "l": "0.00000000"},
        ],
    }
    maker = traded[0]["event"]
    assert (maker["x"], maker["l"], maker["L"], maker["m"], maker["t"]) == (
        "TRADE",
        "0.50000000",
        "100.00000000",
        True,
        2,
    )
    assert traded[1]["event"]["e"] == "outboundAccountPosition"
    report, position = (m["event"] for m in canceled)
    # On a cancel, `c` is the cancel request's client id and `C` the order's original one.
    assert (report["x"], report["X"], report["c"], report["C"], report["w"]) == (
        "CANCELED",
        "CANCELED",
        "cxl-9",
        "mine",
        False,
    )
    assert position["B"] == [{"a": "USDT", "f": "850.00000000", "l": "0.00000000"}]


async def test_dropped_user_stream_refuses_reconnects_and_loses_what_happened_meanwhile() -> None:
    private = Ed25519PrivateKey.generate()
    keys = [FakeApiKey.ed25519("ed", private.public_key())]
    async with (
        FakeBinance({"BTCUSDT": []}, now_ms=NOW, api_keys=keys, balances={"USDT": "1000"}) as fake,
        aiohttp.ClientSession() as session,
    ):
        params: dict[str, Any] = {"apiKey": "ed", "timestamp": NOW, "recvWindow": 10000}
        params["signature"] = base64.b64encode(private.sign(ws_signature_payload(params).encode())).decode()
        subscribe = {"id": 1, "method": "userDataStream.subscribe.signature", "params": params}
        ws = await session.ws_connect(fake.ws_api_url)
        await ws.send_json(subscribe)
        assert (await ws.receive_json(timeout=2))["result"] == {"subscriptionId": 0}
        assert fake.user_stream_subscriptions == 1
        fake.drop_user_streams(refuse_for_s=0.3)
        cut = await ws.receive(timeout=2)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(fake.ws_api_url)
        missed = fake.exchange.place(
            OrderRequest("BTCUSDT", "BUY", "LIMIT", Decimal(1), price=Decimal(90), time_in_force="GTC")
        )
        await asyncio.sleep(0.35)
        again = await session.ws_connect(fake.ws_api_url)
        await again.send_json(subscribe)
        answer = await again.receive_json(timeout=2)
        seen = fake.exchange.place(
            OrderRequest("BTCUSDT", "BUY", "LIMIT", Decimal(1), price=Decimal(80), time_in_force="GTC")
        )
        first_event, position = (m["event"] for m in await receive(again, 2))
        await again.send_json({"id": 3, "method": "userDataStream.unsubscribe"})
        unsubscribed = await again.receive_json(timeout=2)
        await again.close()
    assert cut.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR}
    assert refused.value.status == 503
    assert answer["result"] == {"subscriptionId": 0} and unsubscribed["result"] == {}
    # Nothing of the order placed during the outage is replayed: the first event is the next order's.
    assert (first_event["i"], first_event["x"]) == (seen.order.order_id, "NEW") and missed.order.order_id == 1
    assert position["B"] == [{"a": "USDT", "f": "830.00000000", "l": "170.00000000"}]
    assert fake.user_stream_connections == 2 and fake.user_stream_subscriptions == 0
