"""Constraints the later services rely on, checked on the real schema."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
import pytest

from kestrel_store.timeseries import ensure_partitions_for

pytestmark = pytest.mark.integration

TS = datetime(2024, 5, 6, 13, 30, tzinfo=UTC)


async def _order(pool: asyncpg.Pool, client_order_id: str, **overrides: object) -> UUID:
    values: dict[str, object] = {
        "client_order_id": client_order_id,
        "account": "paper",
        "symbol": "BTC/USDT",
        "side": "BUY",
        "order_type": "MARKET",
        "quantity": Decimal("0.015"),
        "venue": "paper",
        "request_event_id": uuid4(),
        "ts_event": TS,
        **overrides,
    }
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    order_id: UUID = await pool.fetchval(
        f"INSERT INTO trading.orders ({columns}) VALUES ({params}) RETURNING order_id", *values.values()
    )
    return order_id


async def test_client_order_id_is_the_idempotency_key(pool: asyncpg.Pool) -> None:
    await _order(pool, "sig-42-BUY")
    with pytest.raises(asyncpg.UniqueViolationError, match="orders_client_order_id_key"):
        await _order(pool, "sig-42-BUY")
    # The form a handler uses on redelivery: no error, no second order.
    inserted = await pool.fetchval(
        "INSERT INTO trading.orders (client_order_id, account, symbol, side, order_type, quantity, venue, "
        "request_event_id, ts_event) VALUES ('sig-42-BUY', 'paper', 'BTC/USDT', 'BUY', 'MARKET', 1, 'paper', "
        "$1, $2) ON CONFLICT (client_order_id) DO NOTHING RETURNING order_id",
        uuid4(),
        TS,
    )
    assert inserted is None
    assert await pool.fetchval("SELECT count(*) FROM trading.orders") == 1


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"order_type": "LIMIT"}, "orders_limit_price_iff_limit"),
        ({"limit_price": Decimal(100)}, "orders_limit_price_iff_limit"),
        ({"status": "REJECTED"}, "orders_rejection_has_reason"),
        ({"filled_quantity": Decimal("0.016")}, "orders_filled_within_quantity"),
        ({"quantity": Decimal(0)}, "orders_quantity_check"),
        ({"side": "HOLD"}, "orders_side_check"),
    ],
)
async def test_order_checks(pool: asyncpg.Pool, overrides: dict[str, object], constraint: str) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match=constraint):
        await _order(pool, f"bad-{constraint}", **overrides)


async def test_a_redelivered_fill_is_dropped(pool: asyncpg.Pool) -> None:
    order_id = await _order(pool, "sig-7-SELL", side="SELL")
    await ensure_partitions_for(pool, "trading.fills", [TS])
    insert = (
        "INSERT INTO trading.fills (order_id, trade_id, ts, account, symbol, side, quantity, price, fee, "
        "fee_asset, report_event_id) VALUES ($1, 'T-1', $2, 'paper', 'BTC/USDT', 'SELL', 0.015, "
        "64123.45, 0.0962, 'USDT', $3) ON CONFLICT DO NOTHING"
    )
    assert await pool.execute(insert, order_id, TS, uuid4()) == "INSERT 0 1"
    assert await pool.execute(insert, order_id, TS, uuid4()) == "INSERT 0 0"
    row = await pool.fetchrow("SELECT price, fee FROM trading.fills")
    assert (row["price"], row["fee"]) == (Decimal("64123.45"), Decimal("0.0962"))


async def test_a_fill_needs_its_order(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await pool.execute(
            "INSERT INTO trading.fills (order_id, trade_id, ts, account, symbol, side, quantity, price, "
            "fee_asset, report_event_id) "
            "VALUES ($1, 'T-9', $2, 'paper', 'BTC/USDT', 'BUY', 1, 1, 'USDT', $3)",
            uuid4(),
            TS,
            uuid4(),
        )


async def test_feature_vectors_reference_their_feature_set(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO features.feature_sets (version, names) VALUES ('fs-1', $1)", ["rsi_14", "atr_14"]
    )
    insert = (
        "INSERT INTO features.vectors (symbol, timeframe, ts, feature_set_version, values, source_event_id, "
        "event_id) VALUES ('ETH/USDT', '1h', $1, $2, $3, $4, $5)"
    )
    await pool.execute(insert, TS, "fs-1", [55.5, float("nan")], uuid4(), uuid4())
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await pool.execute(insert, TS, "fs-unknown", [1.0, 2.0], uuid4(), uuid4())
    with pytest.raises(asyncpg.UniqueViolationError, match="duplicate key"):
        await pool.execute(insert, TS, "fs-1", [1.0, 2.0], uuid4(), uuid4())
    stored = await pool.fetchval('SELECT "values" FROM features.vectors')
    assert stored[0] == 55.5


async def test_backtest_job_runs_once(pool: asyncpg.Pool) -> None:
    job = uuid4()
    insert = (
        "INSERT INTO backtest.runs "
        "(job_event_id, strategy, parameters, symbols, timeframe, start_ts, end_ts) "
        "VALUES ($1, 'sma_cross', $2, $3, '1d', '2010-01-01', '2018-01-01') "
        "ON CONFLICT (job_event_id) DO NOTHING RETURNING run_id"
    )
    assert await pool.fetchval(insert, job, {"fast": 10, "slow": 50}, ["SPX"]) is not None
    assert await pool.fetchval(insert, job, {"fast": 10, "slow": 50}, ["SPX"]) is None
    assert await pool.fetchval("SELECT parameters FROM backtest.runs") == {"fast": 10, "slow": 50}
