"""The pool: readiness ping, server-side statement timeout, session settings, codecs."""

from __future__ import annotations

import socket
from decimal import Decimal

import asyncpg
import pytest

from kestrel_store.pool import create_pool, ping, readiness_check

pytestmark = pytest.mark.integration


async def test_ping_succeeds_on_a_live_server(pool: asyncpg.Pool) -> None:
    await ping(pool)
    await readiness_check(pool)()


async def test_ping_fails_once_the_pool_is_closed(migrated_database: str) -> None:
    store_pool = await create_pool(migrated_database)
    await store_pool.close()
    with pytest.raises(asyncpg.InterfaceError):
        await ping(store_pool)


async def test_create_pool_fails_fast_when_nothing_listens() -> None:
    with socket.socket() as probe:  # a port that is free now, so nothing answers on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        await create_pool(f"postgresql://kestrel:kestrel@127.0.0.1:{port}/kestrel")


async def test_statement_timeout_is_enforced_by_the_server(migrated_database: str) -> None:
    store_pool = await create_pool(migrated_database, statement_timeout_ms=200)
    try:
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await store_pool.execute("SELECT pg_sleep(2)")
        await ping(store_pool)  # the connection survives the cancelled statement
    finally:
        await store_pool.close()


async def test_sessions_are_utc_and_named(pool: asyncpg.Pool) -> None:
    row = await pool.fetchrow(
        "SELECT current_setting('TimeZone') AS tz, current_setting('application_name') AS app, "
        "current_setting('statement_timeout') AS timeout"
    )
    assert (row["tz"], row["app"], row["timeout"]) == ("UTC", "kestrel-store-tests", "30s")


async def test_numeric_is_decimal_both_ways(pool: asyncpg.Pool) -> None:
    value = Decimal("123456789012345678901234567890.123456789012345678")
    assert await pool.fetchval("SELECT $1::numeric", value) == value
    assert await pool.fetchval("SELECT 0.1::numeric + 0.2::numeric") == Decimal("0.3")


async def test_jsonb_round_trips_python_objects(pool: asyncpg.Pool) -> None:
    document = {"a": [1, 2, {"b": None}], "price": Decimal("0.10")}
    assert await pool.fetchval("SELECT $1::jsonb", document) == {"a": [1, 2, {"b": None}], "price": "0.10"}
    assert await pool.fetchval("""SELECT '{"x": 1}'::json""") == {"x": 1}
