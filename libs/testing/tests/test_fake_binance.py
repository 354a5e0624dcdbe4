"""The fake Binance speaks the documented spot formats: parameter validation and error JSON, request
weight, exchangeInfo filters, kline rows with the still-open bar, raw and combined kline streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_data import SymbolSpec, live_updates, make_klines

T0 = 1_704_067_200_000
MINUTE = 60_000


async def get(fake: FakeBinance, path: str, **params: str) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake.rest_url + path, params=params) as response,
    ):
        return response.status, dict(response.headers), await response.json()


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        (
            {"interval": "1m"},
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        ),
        (
            {"symbol": "BTCUSDT"},
            -1102,
            "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
        ),
        ({"symbol": "NOPEUSDT", "interval": "1m"}, -1121, "Invalid symbol."),
        ({"symbol": "BTCUSDT", "interval": "7m"}, -1120, "Invalid interval."),
        (
            {"symbol": "btcusdt", "interval": "1m"},
            -1100,
            "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
        ),
        (
            {"symbol": "BTCUSDT", "interval": "1m", "startTime": "-5"},
            -1100,
            "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'.",
        ),
        (
            {"symbol": "BTCUSDT", "interval": "1m", "limit": "1001"},
            -1130,
            "Data sent for parameter 'limit' is not valid.",
        ),
        (
            {"symbol": "BTCUSDT", "interval": "1m", "foo": "1"},
            -1104,
            "Not all sent parameters were read; read '2' parameter(s) but was sent '3'.",
        ),
    ],
)
async def test_klines_rejects_bad_parameters_with_binance_errors(
    params: dict[str, str], code: int, msg: str
) -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 3)}, now_ms=T0 + 3 * MINUTE) as fake:
        status, headers, body = await get(fake, "/api/v3/klines", **params)
    assert status == 400
    assert body == {"code": code, "msg": msg}
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"


async def test_klines_rows_follow_the_documented_layout_and_include_the_open_bar() -> None:
    klines = make_klines(T0, 5)
    async with FakeBinance({"BTCUSDT": klines}, now_ms=T0 + 4 * MINUTE + 1) as fake:
        status, headers, rows = await get(fake, "/api/v3/klines", symbol="BTCUSDT", interval="1m")
        _, _, recent = await get(
            fake, "/api/v3/klines", symbol="BTCUSDT", interval="1m", endTime=str(T0 + MINUTE), limit="1"
        )
        _, _, other = await get(fake, "/api/v3/klines", symbol="BTCUSDT", interval="5m")
    assert status == 200 and len(rows) == 5  # bar 4 opened 1 ms ago: served, still open
    first = rows[0]
    assert first[0] == T0 and first[6] == T0 + MINUTE - 1 and len(first) == 12
    assert first[1:6] == [klines[0].open, klines[0].high, klines[0].low, klines[0].close, klines[0].volume]
    assert all(isinstance(v, str) for v in first[1:6]) and first[8] == klines[0].trades
    assert [r[0] for r in recent] == [T0 + MINUTE]  # endTime alone: the most recent up to it
    assert other == []  # a valid interval the fake was not given history for
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"


async def test_klines_do_not_exist_before_their_open_time() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 10)}, now_ms=T0 + 2 * MINUTE + 5) as fake:
        _, _, rows = await get(fake, "/api/v3/klines", symbol="BTCUSDT", interval="1m", startTime="0")
        fake.now_ms = T0 + 6 * MINUTE
        _, _, later = await get(fake, "/api/v3/klines", symbol="BTCUSDT", interval="1m", startTime="0")
    assert [r[0] for r in rows] == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    assert len(later) == 7


async def test_weight_is_counted_and_going_over_the_limit_is_a_429_with_retry_after() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 3)}, now_ms=T0, weight_limit=100) as fake:
        _, headers, _ = await get(fake, "/api/v3/exchangeInfo")
        assert headers["X-MBX-USED-WEIGHT-1M"] == "20"
        fake.set_used_weight(99)
        status, headers, body = await get(fake, "/api/v3/klines", symbol="BTCUSDT", interval="1m")
    assert status == 429
    assert body["code"] == -1003 and "current limit is 100 request weight per 1 MINUTE" in body["msg"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["X-MBX-USED-WEIGHT-1M"] == "101"


async def test_scripted_faults_answer_the_next_requests_then_stop() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 3)}, now_ms=T0) as fake:
        fake.fail_next(1, 418, retry_after_s=120)
        fake.fail_next(1, 503)
        banned = await get(fake, "/api/v3/time")
        busy = await get(fake, "/api/v3/time")
        fine = await get(fake, "/api/v3/time")
    assert banned[0] == 418 and banned[1]["Retry-After"] == "120" and "IP banned until" in banned[2]["msg"]
    assert busy[0] == 503 and "Retry-After" not in busy[1]
    assert fine == (200, fine[1], {"serverTime": T0})


async def test_exchange_info_lists_symbols_with_their_filters_and_the_weight_limit() -> None:
    spec = SymbolSpec("ETHBTC", "ETH", "BTC", tick_size="0.00001000", min_notional="0.00010000")
    async with FakeBinance({"BTCUSDT": [], "ETHBTC": []}, symbols=[spec]) as fake:
        _, _, every = await get(fake, "/api/v3/exchangeInfo")
        _, _, one = await get(fake, "/api/v3/exchangeInfo", symbols=json.dumps(["ETHBTC"]))
        bad = await get(fake, "/api/v3/exchangeInfo", symbol="NOPEUSDT")
    assert {s["symbol"] for s in every["symbols"]} == {"BTCUSDT", "ETHBTC"}
    assert every["rateLimits"][0] == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 6000,
    }
    (eth,) = one["symbols"]
    assert (eth["baseAsset"], eth["quoteAsset"], eth["status"]) == ("ETH", "BTC", "TRADING")
    filters = {f["filterType"]: f for f in eth["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.00001000"
    assert {"LOT_SIZE", "MIN_NOTIONAL", "NOTIONAL"} <= filters.keys()
    assert filters["NOTIONAL"]["minNotional"] == "0.00010000"
    assert bad[0] == 400 and bad[2] == {"code": -1121, "msg": "Invalid symbol."}


async def test_raw_stream_sends_bare_events_and_answers_subscribe_requests() -> None:
    klines = make_klines(T0, 2)
    async with FakeBinance({"BTCUSDT": []}, now_ms=T0) as fake:
        fake.set_live_script(live_updates("BTCUSDT", klines, partials=1), step_s=0.05, autostart=False)
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{fake.ws_url}/ws/btcusdt@kline_1m") as ws,
        ):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})
            assert await ws.receive_json(timeout=2) == {"result": ["btcusdt@kline_1m"], "id": 3}
            fake.start_live()
            events = [await ws.receive_json(timeout=2) for _ in range(4)]
        await asyncio.wait_for(fake.live_finished.wait(), 2)
        closed = fake.closed_klines("BTCUSDT")
    assert [(e["e"], e["s"], e["k"]["t"], e["k"]["x"]) for e in events] == [
        ("kline", "BTCUSDT", T0, False),
        ("kline", "BTCUSDT", T0, True),
        ("kline", "BTCUSDT", T0 + MINUTE, False),
        ("kline", "BTCUSDT", T0 + MINUTE, True),
    ]
    assert events[1]["k"]["c"] == klines[0].close and events[1]["k"]["T"] == T0 + MINUTE - 1
    assert closed == klines  # what was played is REST history, and closed by the scripted clock


async def test_malformed_stream_names_are_refused() -> None:
    async with FakeBinance({"BTCUSDT": []}) as fake, aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"{fake.ws_url}/stream?streams=BTCUSDT@kline_1m")
    assert refused.value.status == 400
