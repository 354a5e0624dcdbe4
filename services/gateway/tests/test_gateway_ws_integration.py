"""/ws on the real stack: bars published to Kafka reach the clients following their symbol, only them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest

from kestrel_contracts.registry import channel
from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway
from kestrel_messaging.kafka import KafkaBus
from kestrel_testing.messaging import bar

pytestmark = pytest.mark.integration


async def _messages(ws: aiohttp.ClientWebSocketResponse, within_s: float) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within_s):
            while True:
                got.append(await ws.receive_json())
    return got


async def test_a_published_bar_reaches_a_subscriber_of_its_symbol_and_no_other(
    gateway: Gateway, http: aiohttp.ClientSession, kafka_bootstrap: str, unique: str
) -> None:
    ws_url = gateway.url.replace("http://", "ws://") + "/ws"
    bus = KafkaBus(kafka_bootstrap, client_id=f"test-{unique}")
    bars = channel("market.bars")
    await bus.ensure_channel(bars)
    try:
        async with http.ws_connect(f"{ws_url}?api_key={gateway.keys[Role.VIEWER]}") as ws:
            await ws.send_json({"subscribe": ["BTC/USDT"]})
            assert await ws.receive_json() == {"type": "subscribed", "symbols": ["BTC/USDT"]}
            received: list[dict[str, Any]] = []
            # The feed reads from the latest offset once its consumer is assigned, which takes a
            # moment: publish until something arrives, the other symbol first each time.
            for seq in range(60):
                await bus.publish(bars, bar("ETH/USDT", seq))
                await bus.publish(bars, bar("BTC/USDT", seq))
                received += await _messages(ws, 0.5)
                if received:
                    break
            received += await _messages(ws, 1.0)  # anything else in flight
    finally:
        await bus.close()
    assert received, "no bar reached the WebSocket"
    assert {(m["type"], m["symbol"]) for m in received} == {("bar", "BTC/USDT")}
    assert received[0]["data"]["close"] == "100" and received[0]["data"]["timeframe"] == "1m"


async def test_the_websocket_refuses_a_missing_key_with_4401(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(gateway.url.replace("http://", "ws://") + "/ws") as ws:
        refusal = await ws.receive_json()
        closing = await ws.receive()
    assert refusal["error"] == "unauthorized"
    assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4401


async def test_a_bad_client_message_gets_an_error_and_the_socket_stays_open(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    headers = gateway.headers(Role.VIEWER)
    async with http.ws_connect(gateway.url.replace("http://", "ws://") + "/ws", headers=headers) as ws:
        await ws.send_str("not json")
        assert (await ws.receive_json())["type"] == "error"
        await ws.send_json({"subscribe": ["ETH/USDT"]})
        assert await ws.receive_json() == {"type": "subscribed", "symbols": ["ETH/USDT"]}
