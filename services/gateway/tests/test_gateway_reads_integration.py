"""The GET endpoints on seeded rows of a fresh, migrated database, portfolio math included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import asyncpg
import pytest

from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway
from kestrel_store.bars import Bar, upsert_bars

pytestmark = pytest.mark.integration

T0 = datetime(2024, 1, 1, tzinfo=UTC)
D = Decimal


async def _seed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        bars = [
            Bar(
                "BTC/USDT",
                "1m",
                T0 + timedelta(minutes=i),
                D(c),
                D(c) + 1,
                D(c) - 1,
                D(c),
                D("2"),
                uuid.uuid4(),
            )
            for i, c in enumerate(["100", "105", "118", "120"])
        ]
        await upsert_bars(conn, bars)
        await conn.execute(
            "INSERT INTO trading.accounts (account, initial_cash, quote_asset) "
            "VALUES ('acct-1', 10000, 'USDT')"
        )
        for i, action in enumerate(["BUY", "HOLD"]):
            await conn.execute(
                "INSERT INTO trading.signals (event_id, ts, symbol, venue, timeframe, strategy_id, "
                "model_name, model_version, action, confidence, probabilities, reference_price) "
                "VALUES ($1, $2, 'BTC/USDT', 'paper', '1m', 's1', 'm', '3', $3, 0.7, '{\"up\": 0.7}', 100.5)",
                uuid.uuid4(),
                T0 + timedelta(minutes=i),
                action,
            )
        orders = [
            ("c-buy", "BUY", "2", "FILLED"),
            ("c-sell", "SELL", "1", "FILLED"),
            ("c-rej", "BUY", "5", "REJECTED"),
        ]
        for n, (cid, side, qty, status) in enumerate(orders):
            order_id = await conn.fetchval(
                "INSERT INTO trading.orders (client_order_id, account, symbol, side, order_type, quantity, "
                "status, filled_quantity, reject_reason, venue, request_event_id, ts_event, created_at) "
                "VALUES ($1, 'acct-1', 'BTC/USDT', $2, 'MARKET', $3, $4, $5, $6, 'paper', $7, $8, $8) "
                "RETURNING order_id",
                cid,
                side,
                D(qty),
                status,
                D(qty) if status == "FILLED" else D(0),
                "too big" if status == "REJECTED" else None,
                uuid.uuid4(),
                T0 + timedelta(minutes=n),
            )
            if status == "FILLED":
                price, fee = ("100", "0.2") if side == "BUY" else ("110", "0.11")
                await conn.execute(
                    "INSERT INTO trading.fills (order_id, trade_id, ts, account, symbol, side, quantity, "
                    "price, fee, fee_asset, report_event_id) "
                    "VALUES ($1, 't1', $2, 'acct-1', 'BTC/USDT', $3, $4, $5, $6, 'USDT', $7)",
                    order_id,
                    T0 + timedelta(minutes=n, seconds=30),
                    side,
                    D(qty),
                    D(price),
                    D(fee),
                    uuid.uuid4(),
                )
        for cid, outcome, reason in [("c-buy", "APPROVED", None), ("c-rej", "REJECTED", "MAX_POSITION")]:
            await conn.execute(
                "INSERT INTO trading.risk_decisions (event_id, ts, client_order_id, account, strategy_id, "
                "symbol, side, outcome, reason, reason_text, quantity, origin, checks) "
                "VALUES ($1, $2, $3, 'acct-1', 's1', 'BTC/USDT', 'BUY', $4, $5, 'why', 2, 'SIGNAL', '[]')",
                uuid.uuid4(),
                T0,
                cid,
                outcome,
                reason,
            )
    finally:
        await conn.close()


async def _get(http: aiohttp.ClientSession, gateway: Gateway, path: str) -> Any:
    async with http.get(f"{gateway.url}{path}", headers=gateway.headers(Role.VIEWER)) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_the_read_endpoints_return_the_seeded_rows(
    gateway: Gateway, http: aiohttp.ClientSession, migrated_database_url: str
) -> None:
    await _seed(migrated_database_url)
    bars = (await _get(http, gateway, "/api/bars?symbol=BTC/USDT&timeframe=1m&limit=2"))["bars"]
    assert [b["close"] for b in bars] == ["118", "120"]  # the latest two, oldest first
    ranged = await _get(
        http, gateway, "/api/bars?symbol=BTC/USDT&timeframe=1m&start=2024-01-01T00:01:00Z&limit=2"
    )
    assert [b["close"] for b in ranged["bars"]] == ["105", "118"]

    signals = (await _get(http, gateway, "/api/signals?symbol=BTC/USDT"))["signals"]
    assert [s["action"] for s in signals] == ["HOLD", "BUY"]
    assert signals[1]["reference_price"] == "100.5" and signals[1]["probabilities"] == {"up": 0.7}

    orders = (await _get(http, gateway, "/api/orders?status=FILLED"))["orders"]
    assert [o["client_order_id"] for o in orders] == ["c-sell", "c-buy"]
    assert orders[1]["fills"][0] | {"ts": None} == {
        "trade_id": "t1",
        "ts": None,
        "side": "BUY",
        "quantity": "2",
        "price": "100",
        "fee": "0.2",
        "fee_asset": "USDT",
        "liquidity": None,
    }
    rejected = (await _get(http, gateway, "/api/orders?symbol=BTC/USDT&status=REJECTED"))["orders"]
    assert [(o["client_order_id"], o["reject_reason"], o["fills"]) for o in rejected] == [
        ("c-rej", "too big", [])
    ]

    decisions = (await _get(http, gateway, "/api/risk/decisions?outcome=REJECTED"))["decisions"]
    assert [(d["client_order_id"], d["reason"]) for d in decisions] == [("c-rej", "MAX_POSITION")]

    summary = await _get(http, gateway, "/api/metrics")
    assert summary == {
        "bars": {"BTC/USDT": 4},
        "signals": {"BUY": 1, "HOLD": 1},
        "risk_decisions": {"APPROVED": 1, "REJECTED": 1},
        "rejections_by_reason": {"MAX_POSITION": 1},
        "orders_by_status": {"FILLED": 2, "REJECTED": 1},
        "fills": 2,
        "fees_by_asset": {"USDT": "0.31"},
    }


async def test_the_portfolio_equals_the_hand_computed_values(
    gateway: Gateway, http: aiohttp.ClientSession, migrated_database_url: str
) -> None:
    await _seed(migrated_database_url)
    body = await _get(http, gateway, "/api/portfolio/acct-1")
    # Bought 2 @ 100 (fee 0.2), sold 1 @ 110 (fee 0.11); the latest bar closes at 120.
    # cash = 10000 - 200 - 0.2 + 110 - 0.11 = 9909.69; realized = 1 x (110 - 100) = 10;
    # unrealized = 1 x (120 - 100) = 20; equity = 9909.69 + 120 = 10029.69 = 10000 + 10 + 20 - 0.31.
    assert {k: body[k] for k in ("cash", "realized_pnl", "unrealized_pnl", "fees", "equity", "fills")} == {
        "cash": "9909.69",
        "realized_pnl": "10",
        "unrealized_pnl": "20",
        "fees": "0.31",
        "equity": "10029.69",
        "fills": 2,
    }
    [position] = body["positions"]
    assert (position["quantity"], position["average_price"], position["mark"], position["mark_source"]) == (
        "1",
        "100",
        "120",
        "bar",
    )
    # Fills at 00:00:30 and 00:01:30; bar closes (open + 1m) at 00:01, 00:02, 00:03, 00:04.
    curve = [(p["ts"][11:19], p["equity"]) for p in body["equity_curve"]]
    assert curve == [
        ("00:00:30", "9999.8"),  # 9799.8 cash + 2 x 100
        ("00:01:00", "9999.8"),  # bar 00:00 closes at 100
        ("00:01:30", "10019.69"),  # sold 1 @ 110: 9909.69 + 1 x 110
        ("00:02:00", "10014.69"),  # close 105
        ("00:03:00", "10027.69"),  # close 118
        ("00:04:00", "10029.69"),  # close 120
    ]


async def test_parent_orders_list_their_children_average_and_slippage_against_arrival(
    gateway: Gateway, http: aiohttp.ClientSession, migrated_database_url: str
) -> None:
    conn = await asyncpg.connect(migrated_database_url)
    try:
        await conn.execute(
            "INSERT INTO trading.parent_orders (client_order_id, account, strategy_id, symbol, venue, "
            "timeframe, broker, side, order_type, time_in_force, quantity, algorithm, duration_ns, slices, "
            "arrival_ns, arrival_price, status, filled_quantity, filled_notional, request_event_id) "
            "VALUES ('par-1', 'acct-1', 's1', 'BTC/USDT', 'BINANCE', '1m', 'paper', 'BUY', 'MARKET', 'GTC', "
            "2, 'TWAP', 120000000000, 2, 0, 100, 'FILLED', 2, 202, $1)",
            uuid.uuid4(),
        )
        for k in range(2):
            await conn.execute(
                "INSERT INTO trading.orders (client_order_id, account, symbol, side, order_type, quantity, "
                "status, filled_quantity, venue, request_event_id, ts_event, parent_client_order_id, "
                "created_at) VALUES ($1, 'acct-1', 'BTC/USDT', 'BUY', 'MARKET', 1, 'FILLED', 1, 'paper', $2, "
                "$3, 'par-1', $3)",
                f"par-1.{k}",
                uuid.uuid4(),
                T0 + timedelta(minutes=k),
            )
    finally:
        await conn.close()
    (parent,) = (await _get(http, gateway, "/api/parent-orders?symbol=BTC/USDT"))["parent_orders"]
    assert (parent["client_order_id"], parent["algorithm"], parent["status"]) == ("par-1", "TWAP", "FILLED")
    assert parent["children"] == ["par-1.0", "par-1.1"]
    assert (parent["average_fill_price"], parent["slippage_bps"]) == ("101", "100")
    children = (await _get(http, gateway, "/api/orders?symbol=BTC/USDT"))["orders"]
    assert {o["parent_client_order_id"] for o in children} == {"par-1"}
    assert (await _get(http, gateway, "/api/parent-orders?status=NEW"))["parent_orders"] == []
