"""The local exchange process: its market maker moves the book on each price, and the process itself
starts on its fixed port, trades with its one key, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from kestrel_contracts.registry import NAMESPACE_ENV, channel
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.memory import InMemoryBus
from kestrel_testing.exchange import symbol_spec
from kestrel_testing.exchange_maker import MarketMaker, run_maker
from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_auth import FakeApiKey
from kestrel_testing.fake_binance_client import SignedClient, hmac_signer

KEY, SECRET = "local-key", "local-secret-for-tests"
TICK = Decimal("0.00001")


def bar(symbol: str, close: str, ts: int) -> Bar:
    return Bar(event_id=f"bar-{symbol}-{ts}", ts_event=ts, symbol=symbol, timeframe="1d", close=close)


async def market_buy(client: SignedClient, symbol: str, qty: str) -> dict[str, object]:
    params = {"symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": qty, "newOrderRespType": "FULL"}
    status, _, body = await client.call("POST", "/api/v3/order", body=params)
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def test_book_straddles_the_price_on_the_tick() -> None:
    maker = MarketMaker(lambda *_: None, {"SP500": TICK})
    bids, asks = maker.book(Decimal("2500.123456"), TICK)
    assert bids[0][0] == Decimal("2499.62343")  # 2 bps under, rounded down
    assert asks[0][0] == Decimal("2500.62349")  # 2 bps over, rounded up
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True) and len(asks) == 3


def test_symbols_map_as_kestrel_names_them() -> None:
    assert (symbol_spec("SP500:USD").symbol, symbol_spec("btc/usdt").symbol) == ("SP500", "BTCUSDT")
    assert symbol_spec("btc/usdt").base_asset == "BTC"


async def test_the_maker_follows_bars_and_ignores_what_it_cannot_quote() -> None:
    spec = symbol_spec("SP500:USD")
    async with FakeBinance({}, symbols=[spec], api_keys=[FakeApiKey.hmac(KEY, SECRET)],
                           balances={"USD": "1000000000"}) as fake:  # fmt: skip
        bus, stop = InMemoryBus(), asyncio.Event()
        maker = MarketMaker(fake.set_book, {"SP500": TICK})
        task = asyncio.create_task(run_maker(maker, bus, "market.bars", "maker", stop))
        await bus.publish(channel("market.bars"), bar("SP500", "2000", 2))
        await bus.publish(channel("market.bars"), bar("SP500", "1000", 1))  # late: must not move it back
        await bus.publish(channel("market.bars"), bar("NASDAQ", "7000", 3))  # not listed here
        for _ in range(500):  # the maker consumes on its own task
            if maker.quotes + maker.ignored == 3:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await task
        bids, asks = fake.exchange.book("SP500")
        assert (bids[0][0], asks[0][0]) == (Decimal("1999.6"), Decimal("2000.4"))
        assert (maker.quotes, maker.ignored) == (1, 2)
        async with aiohttp.ClientSession() as session:
            client = SignedClient(session, fake.rest_url, KEY, hmac_signer(SECRET))
            filled = await market_buy(client, "SP500", "2")
        assert filled["status"] == "FILLED"
        assert Decimal(str(filled["cummulativeQuoteQty"])) == Decimal("4000.8")  # 2 at the ask


async def test_in_a_replay_the_maker_quotes_at_the_price_each_order_was_sized_at() -> None:
    quoted: list[tuple[str, Decimal]] = []
    maker = MarketMaker(lambda symbol, bids, _asks: quoted.append((symbol, bids[0][0])), {"SP500": TICK})
    bus, stop = InMemoryBus(), asyncio.Event()
    task = asyncio.create_task(run_maker(maker, bus, "execution.orders", "maker", stop))
    order = OrderRequest(
        event_id="e-1", client_order_id="o-1", symbol="SP500", ts_event=5, reference_price="1000"
    )
    await bus.publish(channel("execution.orders"), order)
    for _ in range(500):
        if quoted:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert quoted == [("SP500", Decimal("999.8"))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def exchange_process(follow: str = "none", **extra_env: str) -> AsyncIterator[str]:
    """`python -m kestrel_testing.exchange` on a free fixed port; yields its REST URL, and on the
    way out sends SIGTERM and checks it exited 0 without ever writing the secret."""
    port = free_port()
    env = {**os.environ, "KESTREL_EXCHANGE_API_SECRET": SECRET, "KESTREL_LOG_LEVEL": "WARNING", **extra_env}
    args = ["-m", "kestrel_testing.exchange", "--port", str(port), "--api-key", KEY, "--follow", follow]
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert f"KESTREL_BINANCE_REST_URL={url}" in first and f"ws://127.0.0.1:{port}/ws-api/v3" in first
        assert SECRET not in first and KEY not in first  # the key is shown masked, the secret never
        yield url
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(process.communicate(), 20))[0].decode()
    assert process.returncode == 0, rest
    assert SECRET not in rest


async def test_the_process_serves_its_fixed_port_and_stops_on_sigterm() -> None:
    async with exchange_process() as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/api/v3/ping") as response:
            assert response.status == 200
        client = SignedClient(session, url, KEY, hmac_signer(SECRET))
        status, _, body = await client.call("GET", "/api/v3/account")
    assert status == 200
    held = {b["asset"]: Decimal(b["free"]) for b in body["balances"]}
    assert held["USD"] == Decimal(1_000_000_000)


@pytest.mark.integration
async def test_the_process_quotes_around_the_last_bar_on_kafka(kafka_bootstrap: str, unique: str) -> None:
    namespace = f"exch{unique}"
    env = {"KESTREL_KAFKA_BOOTSTRAP": kafka_bootstrap, NAMESPACE_ENV: namespace}
    async with exchange_process("market.bars", **env) as url, aiohttp.ClientSession() as session:
        os.environ[NAMESPACE_ENV] = namespace  # this test publishes into the process's channels
        bus = KafkaBus(kafka_bootstrap)
        try:
            await bus.ensure_channel(channel("market.bars"))
            await bus.publish(channel("market.bars"), bar("SP500", "3000", 1))
        finally:
            await bus.close()
            del os.environ[NAMESPACE_ENV]
        client = SignedClient(session, url, KEY, hmac_signer(SECRET))
        async with asyncio.timeout(30):  # the consumer group joins, then the bar moves the book
            while True:
                status, _, body = await client.call("POST", "/api/v3/order", body=BUY_ONE)
                if status == 200 and body["status"] == "FILLED":
                    break
                await asyncio.sleep(0.5)  # an empty book expires a market order: not quoted yet
    assert Decimal(body["fills"][0]["price"]) == Decimal("3000.6")


BUY_ONE = {"symbol": "SP500", "side": "BUY", "type": "MARKET", "quantity": "1", "newOrderRespType": "FULL"}
