"""POST /api/bars/upload on the real stack: the gateway (and, for the backtest, the backtest service)
in-process on one fresh database and one channel namespace.

A CSV goes through the ingestion pipeline: its valid bars land in market.bars and on Kafka market.bars,
its bad rows come back with a location and a reason, and the uploaded symbol can be backtested at once.
Refused uploads (bad file, empty, too big, wrong type, wrong role) store nothing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pandas as pd
import pytest

from kestrel_backtest.service import serve as serve_backtests
from kestrel_backtest.settings import BacktestSettings
from kestrel_contracts.registry import channel
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_gateway.keys import Role
from kestrel_gateway.routes import uploads
from kestrel_gateway.testing import Gateway, until
from kestrel_messaging import ConsumerOptions
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.pool import create_pool
from kestrel_testing.messaging import consume_until

pytestmark = pytest.mark.integration
CSV = {"Content-Type": "text/csv"}


def sample_csv(count: int, *, header: str = "date,open,high,low,close,volume") -> list[str]:
    """The latest `count` daily bars of the packaged S&P 500 sample as CSV lines (header first)."""
    frame = arch_daily_bars("sp500").tail(count)
    days = pd.to_datetime(frame["ts"], unit="ns", utc=True).dt.strftime("%Y-%m-%d").tolist()
    columns = (frame[c].tolist() for c in ("open", "high", "low", "close", "volume"))
    rows = zip(days, *columns, strict=True)
    return [header] + [f"{day},{o!r},{h!r},{lo!r},{c!r},{v!r}" for day, o, h, lo, c, v in rows]


async def upload(
    gateway: Gateway,
    http: aiohttp.ClientSession,
    body: Any,
    query: str,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    sent = {**gateway.headers(Role.TRADER), **CSV, **(headers or {})}
    async with http.post(f"{gateway.url}/api/bars/upload?{query}", data=body, headers=sent) as response:
        return response.status, json.loads(await response.read())


async def stored(gateway: Gateway, symbol: str) -> int:
    pool = await create_pool(gateway.settings.database_url, min_size=1, max_size=1)
    try:
        count: int = await pool.fetchval("SELECT count(*) FROM market.bars WHERE symbol = $1", symbol)
    finally:
        await pool.close()
    return count


@pytest.fixture
async def backtest_service(gateway: Gateway, kafka_bootstrap: str, unique: str) -> AsyncIterator[None]:
    settings = BacktestSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        database_url=gateway.settings.database_url,
        backtest_group=f"backtest-{unique}",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve_backtests(settings, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_an_uploaded_csv_is_stored_published_and_backtested(
    gateway: Gateway, backtest_service: None, http: aiohttp.ClientSession, kafka_bootstrap: str
) -> None:
    lines = sample_csv(300)
    status, answer = await upload(gateway, http, "\n".join(lines).encode(), "symbol=MYSP&timeframe=1d")
    assert status == 200, answer
    assert answer["symbol"] == "MYSP" and answer["timeframe"] == "1d" and answer["venue"] == "UPLOAD"
    assert answer["rows_read"] == answer["bars_stored"] == answer["bars_published"] == 300
    assert answer["rows_rejected"] == 0 and answer["problems"] == []
    assert answer["first_bar"].startswith(lines[1][:10]) and answer["last_bar"].startswith(lines[-1][:10])
    assert await stored(gateway, "MYSP") == 300

    bus = KafkaBus(kafka_bootstrap, client_id=f"test-{uuid.uuid4().hex[:8]}")
    try:
        options = ConsumerOptions(start_from_beginning=True, poll_timeout_ms=100)
        sub = bus.subscribe(
            channel("market.bars"), group=f"test.{uuid.uuid4().hex[:8]}", consumer="t", options=options
        )
        published = await consume_until(sub, 300, within_s=60)
    finally:
        await bus.close()
    assert {d.message.symbol for d in published} == {"MYSP"}  # type: ignore[attr-defined]
    assert {d.message.venue for d in published} == {"UPLOAD"}  # type: ignore[attr-defined]

    # The same file again: nothing new to store, the bars republished under the same event ids.
    status, again = await upload(gateway, http, "\n".join(lines).encode(), "symbol=MYSP&timeframe=1d")
    assert status == 200 and again["bars_stored"] == 0 and again["bars_published"] == 300
    assert await stored(gateway, "MYSP") == 300

    request = {
        "strategy": "sma_cross",
        "symbols": ["MYSP"],
        "parameters": {"fast": 10, "slow": 40},
        "start": f"{lines[1][:10]}T00:00:00Z",
        "end": f"{lines[-1][:10]}T23:59:59Z",
    }
    async with http.post(
        f"{gateway.url}/api/backtest", json=request, headers=gateway.headers(Role.TRADER)
    ) as r:
        assert r.status == 202, await r.text()
        job_id = (await r.json())["job_id"]
    viewer = gateway.headers(Role.VIEWER)

    async def finished() -> bool:
        async with http.get(f"{gateway.url}/api/backtest/{job_id}", headers=viewer) as r:
            return (await r.json())["status"] in ("SUCCEEDED", "FAILED")

    await until(finished, 120, "the backtest on the uploaded bars finishing")
    async with http.get(f"{gateway.url}/api/backtest/{job_id}", headers=viewer) as r:
        run = await r.json()
    assert run["status"] == "SUCCEEDED", run["error"]
    async with http.get(f"{gateway.url}/api/backtest/{job_id}/equity", headers=viewer) as r:
        equity = (await r.json())["equity"]
    assert 200 < len(equity) <= 300  # the uploaded bars are what it ran on


async def test_bad_rows_are_refused_with_a_reason_and_the_good_ones_kept(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    lines = sample_csv(30)
    day, o, h, lo, c, v = lines[5].split(",")
    lines[5] = ",".join((day, o, lo, h, c, v))  # high < low
    day8 = lines[8].split(",")[0]
    lines[8] = f"{day8},{o},{h},{lo},abc,{v}"  # close is not a number
    # No timeframe: FileSource infers 1d from the spacing.
    status, answer = await upload(gateway, http, "\n".join(lines).encode(), "symbol=MIXED")
    assert status == 200, answer
    assert answer["timeframe"] == "1d"
    assert answer["rows_read"] == 30 and answer["bars_stored"] == 28 and answer["rows_rejected"] == 2
    swapped, unreadable = answer["problems"]  # in file order
    assert swapped["location"] == f"bar {day}"
    assert swapped["reason"].startswith(f"invalid: low > high (low {h} > high {lo}")
    assert unreadable == {"location": "upload.csv:9", "reason": "close 'abc' is not a number"}
    async with http.get(
        f"{gateway.url}/api/bars?symbol=MIXED&timeframe=1d&limit=100", headers=gateway.headers(Role.VIEWER)
    ) as r:
        listed = [b["ts"][:10] for b in (await r.json())["bars"]]
    assert len(listed) == 28 and day not in listed and day8 not in listed


async def test_a_symbol_column_naming_another_symbol_is_refused_row_by_row(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    lines = [f"{row},OWN" for row in sample_csv(10)]
    lines[0] = lines[0].replace(",OWN", ",symbol")
    lines[4] = lines[4].replace(",OWN", ",BTC/USDT")
    status, answer = await upload(gateway, http, "\n".join(lines).encode(), "symbol=OWN&timeframe=1d")
    assert status == 200 and answer["bars_stored"] == 9 and answer["rows_rejected"] == 1, answer
    assert "BTC/USDT" in answer["problems"][0]["reason"]
    assert await stored(gateway, "BTC/USDT") == 0


@pytest.mark.parametrize(
    ("body", "query", "headers", "status", "error"),
    [
        (b"date,open,high,low,volume\n2020-01-02,1,2,0.5,10\n", "symbol=NOCLOSE", {}, 422, "invalid_file"),
        (b"", "symbol=NOCLOSE", {}, 422, "empty_body"),
        (
            b"date,open,high,low,close\n2020-01-02,1,x,0.5,1\n",
            "symbol=NOCLOSE&timeframe=1d",
            {},
            422,
            "no_valid_bars",
        ),
        (b"date,open,high,low,close\n", "symbol=NOCLOSE&timeframe=7d", {}, 422, "invalid_request"),
        (b"date,open,high,low,close\n", "symbol=NO%20CLOSE", {}, 422, "invalid_request"),
        (b"date,open,high,low,close\n", "timeframe=1d", {}, 422, "invalid_request"),  # no symbol
        (b"{}", "symbol=NOCLOSE", {"Content-Type": "application/json"}, 415, "unsupported_media_type"),
    ],
)
async def test_refused_uploads_store_nothing(
    gateway: Gateway,
    http: aiohttp.ClientSession,
    body: bytes,
    query: str,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    got, answer = await upload(gateway, http, body, query, headers)
    assert (got, answer["error"]) == (status, error), answer
    assert answer["detail"]
    if error == "invalid_file":
        assert "close" in answer["detail"]
    assert await stored(gateway, "NOCLOSE") == 0


async def test_roles_and_the_size_limit(
    gateway: Gateway, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "\n".join(sample_csv(100)).encode()
    viewer = gateway.headers(Role.VIEWER)
    assert (await upload(gateway, http, body, "symbol=BIG", viewer))[0] == 403
    async with http.post(f"{gateway.url}/api/bars/upload?symbol=BIG", data=body, headers=CSV) as r:
        assert r.status == 401

    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    assert len(body) > 1000
    status, answer = await upload(gateway, http, body, "symbol=BIG")  # refused on Content-Length
    assert (status, answer["error"]) == (413, "payload_too_large")

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: refused while it streams in
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    status, answer = await upload(gateway, http, chunked(), "symbol=BIG")
    assert (status, answer["error"]) == (413, "payload_too_large")
    assert await stored(gateway, "BIG") == 0


async def test_the_upload_is_declared_in_openapi(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{gateway.url}/openapi.json") as r:
        operation = (await r.json())["paths"]["/api/bars/upload"]["post"]
    assert set(operation["requestBody"]["content"]) == {"text/csv", "application/octet-stream"}
    assert {"200", "413", "415", "422"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {"symbol", "timeframe", "venue"}
