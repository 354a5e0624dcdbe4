"""Backtests through the gateway on the real stack: the gateway and the backtest service in-process,
sharing one fresh database and one channel namespace.

POST /api/backtest -> backtest.jobs -> the service -> backtest.runs/results -> GET /api/backtest/...,
progress and the result over /ws; bad requests are 4xx with a reason, and nothing is queued for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openpyxl
import pytest

from kestrel_backtest.service import serve as serve_backtests
from kestrel_backtest.settings import BacktestSettings
from kestrel_backtest.testing import sample_rows
from kestrel_contracts.events import derived_event_id
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.backtest_result_pb2 import BacktestProgress
from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway, until
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.bars import upsert_bars
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration
REQUEST = {
    "strategy": "sma_cross",
    "symbols": ["SP500"],
    "parameters": {"fast": 10, "slow": "40"},
    "start": "2014-01-01T00:00:00Z",
    "end": "2019-01-01T00:00:00Z",
    "fee_rate": "0.001",
    "slippage_bps": "2",
    "sizing_fraction": "0.5",
}


@pytest.fixture
async def backtests(gateway: Gateway, kafka_bootstrap: str, unique: str) -> AsyncIterator[None]:
    pool = await create_pool(gateway.settings.database_url, max_size=2)
    try:
        await upsert_bars(pool, sample_rows("sp500", "SP500", 1500))
    finally:
        await pool.close()
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


async def _json(response: aiohttp.ClientResponse) -> Any:
    return json.loads(await response.read())


async def _messages(ws: aiohttp.ClientWebSocketResponse, within_s: float) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within_s):
            while True:
                got.append(await ws.receive_json())
    return got


async def test_a_backtest_submitted_over_http_runs_and_its_results_and_reports_download(
    gateway: Gateway, backtests: None, http: aiohttp.ClientSession, kafka_bootstrap: str, unique: str
) -> None:
    trader, viewer = gateway.headers(Role.TRADER), gateway.headers(Role.VIEWER)
    job_id = derived_event_id("gateway-backtest", gateway.key_ids[Role.TRADER], "first")
    follow = f"backtest:{job_id}"
    bus = KafkaBus(kafka_bootstrap, client_id=f"test-{unique}")
    ws_url = gateway.url.replace("http://", "ws://") + f"/ws?api_key={gateway.keys[Role.VIEWER]}"
    try:
        async with http.ws_connect(ws_url) as ws:
            await ws.send_json({"subscribe": [follow]})
            assert (await ws.receive_json())["type"] == "subscribed"
            # The feed reads from the latest offset once assigned: probe until it relays progress.
            probe = BacktestProgress(event_id=job_id, job_id=job_id, fraction=0.0, stage="probe")
            relayed: list[dict[str, Any]] = []
            for _ in range(60):
                await bus.publish(channel("backtest.progress"), probe)
                relayed += await _messages(ws, 0.5)
                if relayed:
                    break
            assert relayed and relayed[0]["type"] == "backtest_progress" and relayed[0]["symbol"] == follow

            headers = {**trader, "Idempotency-Key": "first"}
            async with http.post(f"{gateway.url}/api/backtest", json=REQUEST, headers=headers) as response:
                assert response.status == 202, await response.text()
                accepted = await _json(response)
            assert accepted["job_id"] == job_id and accepted["status"] == "QUEUED"
            async with http.post(f"{gateway.url}/api/backtest", json=REQUEST, headers=headers) as again:
                assert again.status == 202 and (await _json(again))["job_id"] == job_id  # same job

            async def finished() -> bool:
                async with http.get(f"{gateway.url}/api/backtest/{job_id}", headers=viewer) as r:
                    return (await _json(r))["status"] in ("SUCCEEDED", "FAILED")

            await until(finished, 120, "the backtest finishing")
            seen = await _messages(ws, 3.0)
    finally:
        await bus.close()
    assert any(m["type"] == "backtest_result" and m["data"]["job_id"] == job_id for m in seen)

    async with http.get(f"{gateway.url}/api/backtest/{job_id}", headers=viewer) as response:
        run = await _json(response)
    assert run["status"] == "SUCCEEDED", run["error"]
    assert (
        run["progress"] == 1.0 and run["attempts"] == 1 and run["parameters"] == {"fast": "10", "slow": "40"}
    )
    assert {"html", "pdf", "xlsx", "csv", "json", "pine"} <= set(run["reports"])
    async with http.get(f"{gateway.url}/api/backtest/{job_id}/fills?limit=5000", headers=viewer) as r:
        fills = (await _json(r))["fills"]
    assert len(fills) == run["metrics"]["fill_count"] > 0 and isinstance(fills[0]["price"], str)
    async with http.get(f"{gateway.url}/api/backtest/{job_id}/trades?limit=5000", headers=viewer) as r:
        trades = (await _json(r))["trades"]
    assert len(trades) == run["metrics"]["trade_count"]
    async with http.get(f"{gateway.url}/api/backtest/{job_id}/equity", headers=viewer) as r:
        equity = (await _json(r))["equity"]
    assert len(equity) > 1000 and all(e["drawdown"] <= 0 for e in equity)

    await _check_reports(gateway, http, job_id, run)
    async with http.get(f"{gateway.url}/api/backtests?strategy=sma_cross", headers=viewer) as r:
        listed = (await _json(r))["backtests"]
    assert [b["run_id"] for b in listed] == [job_id]


async def _check_reports(
    gateway: Gateway, http: aiohttp.ClientSession, job_id: str, run: dict[str, Any]
) -> None:
    viewer = gateway.headers(Role.VIEWER)
    downloads = {}
    for fmt in ("html", "pdf", "xlsx", "csv", "json", "pine"):
        async with http.get(f"{gateway.url}/api/backtest/{job_id}/report?format={fmt}", headers=viewer) as r:
            assert r.status == 200, fmt
            downloads[fmt] = (r.headers["Content-Type"], await r.read())
    assert downloads["pdf"][1].startswith(b"%PDF")
    assert b"sma_cross" in downloads["html"][1] and "text/html" in downloads["html"][0]
    assert openpyxl.load_workbook(io.BytesIO(downloads["xlsx"][1])).sheetnames
    assert zipfile.ZipFile(io.BytesIO(downloads["csv"][1])).namelist()
    assert json.loads(downloads["json"][1])["money"]["final_equity"] == run["money"]["final_equity"]
    assert b"//@version=5" in downloads["pine"][1]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"strategy": "nope"}, 422, "unknown_strategy"),
        ({"parameters": {"fast": 60, "slow": 40}}, 422, "invalid_parameters"),
        ({"parameters": {"slow": 9000}}, 422, "invalid_parameters"),
        ({"parameters": {"typo": 3}}, 422, "invalid_parameters"),
        ({"symbols": ["SP500", "SP500"]}, 422, "invalid_request"),
        ({"strategy": "pairs_spread", "parameters": {}}, 422, "invalid_request"),  # no reference symbol
        ({"end": "2010-01-01T00:00:00Z"}, 422, "invalid_request"),
        ({"initial_cash": 100000}, 422, "invalid_request"),
        ({"mode": "turbo"}, 422, "invalid_request"),
    ],
)
async def test_bad_backtest_requests_are_refused_with_a_reason(
    gateway: Gateway, http: aiohttp.ClientSession, change: dict[str, Any], status: int, error: str
) -> None:
    body = {**REQUEST, **change}
    async with http.post(f"{gateway.url}/api/backtest", json=body, headers=gateway.headers(Role.TRADER)) as r:
        assert r.status == status
        answer = await _json(r)
    assert answer["error"] == error and answer["detail"]
    async with http.get(f"{gateway.url}/api/backtests", headers=gateway.headers(Role.VIEWER)) as r:
        assert (await _json(r))["backtests"] == []  # nothing was queued


async def test_roles_and_missing_runs(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    viewer = gateway.headers(Role.VIEWER)
    async with http.post(f"{gateway.url}/api/backtest", json=REQUEST, headers=viewer) as r:
        assert r.status == 403
    async with http.get(f"{gateway.url}/api/strategies", headers=viewer) as r:
        catalogue = (await _json(r))["strategies"]
    assert len(catalogue) >= 15 and {"sma_cross", "pairs_spread", "ml_threshold"} <= {
        s["name"] for s in catalogue
    }
    async with http.get(f"{gateway.url}/api/strategies/sma_cross", headers=viewer) as r:
        assert (await _json(r))["constraints"] == ["fast < slow"]
    missing = "00000000-0000-4000-8000-000000000000"
    for path in ("", "/trades", "/equity", "/report"):
        async with http.get(f"{gateway.url}/api/backtest/{missing}{path}", headers=viewer) as r:
            assert r.status == 404, path
    async with http.get(f"{gateway.url}/api/backtest/not-a-uuid", headers=viewer) as r:
        assert r.status == 422
    async with http.get(f"{gateway.url}/api/strategies", headers={}) as r:
        assert r.status == 401
