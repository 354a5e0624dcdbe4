"""asyncpg connection pool: one way to open the store, with timeouts and codecs every service shares.

NUMERIC columns decode to ``decimal.Decimal`` (asyncpg's default, kept on purpose: money never passes
through binary floats). ``json``/``jsonb`` columns decode to Python objects; on the way in, a
``Decimal`` inside a JSON document is written as a string so that no amount is rounded.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Protocol

import asyncpg

DATABASE_URL_ENV = "KESTREL_DATABASE_URL"
DEFAULT_DATABASE_URL = "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel"


class Queryable(Protocol):
    """What queries need from an asyncpg ``Connection`` or ``Pool`` (both satisfy it), so helpers
    take either and tests can pass a fake."""

    async def execute(self, query: str, *args: Any) -> str: ...

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


def database_url_from_env() -> str:
    """The database URL from ``KESTREL_DATABASE_URL``, or the local-infrastructure default."""
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")  # plain notation: "0.00000001", never "1E-8"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(value: Any) -> str:
    """JSON text for a json/jsonb parameter; Decimals become strings, never floats."""
    return json.dumps(value, default=_json_default, separators=(",", ":"))


async def init_connection(conn: asyncpg.Connection) -> None:
    """Codecs installed on every pooled connection (also usable on a bare ``asyncpg.connect``)."""
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, schema="pg_catalog", encoder=encode_json, decoder=json.loads, format="text"
        )


def server_settings(application_name: str, statement_timeout_ms: int) -> dict[str, str]:
    """Per-session settings. UTC keeps any text rendering of timestamps unambiguous; the idle-in-
    transaction limit frees locks held by a client that stalled mid-transaction."""
    return {
        "application_name": application_name,
        "statement_timeout": str(statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 2, 60_000)),
        "timezone": "UTC",
    }


async def create_pool(
    database_url: str | None = None,
    *,
    application_name: str = "kestrel",
    min_size: int = 1,
    max_size: int = 10,
    statement_timeout_ms: int = 30_000,
    command_timeout_s: float = 60.0,
    max_inactive_connection_lifetime_s: float = 300.0,
) -> asyncpg.Pool:
    """Open a pool to ``database_url`` (default: ``KESTREL_DATABASE_URL``).

    ``statement_timeout_ms`` is enforced by the server (a runaway query is cancelled there, freeing its
    locks); ``command_timeout_s`` is the client-side backstop for a server that stops answering.
    Set ``statement_timeout_ms=0`` for sessions that legitimately run long (migrations, backfills).
    """
    if not 0 < min_size <= max_size:
        raise ValueError(f"pool sizes must satisfy 0 < min_size <= max_size, got {min_size}, {max_size}")
    pool = await asyncpg.create_pool(
        database_url or database_url_from_env(),
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout_s,
        max_inactive_connection_lifetime=max_inactive_connection_lifetime_s,
        server_settings=server_settings(application_name, statement_timeout_ms),
        init=init_connection,
    )
    if pool is None:  # asyncpg types the result as Optional; a created pool is never None
        raise RuntimeError("asyncpg.create_pool returned no pool")
    return pool


async def ping(pool: asyncpg.Pool, timeout_s: float = 2.0) -> None:
    """Readiness check: a connection can be taken from the pool and the server answers a query.

    Raises on any failure (timeout, refused connection, wrong answer), which is what a ``/ready``
    check callable is expected to do.
    """
    async with pool.acquire(timeout=timeout_s) as conn:
        answer = await conn.fetchval("SELECT 1", timeout=timeout_s)
    if answer != 1:
        raise RuntimeError(f"database answered {answer!r} to SELECT 1")


def readiness_check(pool: asyncpg.Pool, timeout_s: float = 2.0) -> Callable[[], Awaitable[None]]:
    """``ping`` bound to ``pool``, shaped for ``HealthServer(readiness={"postgres": ...})``."""

    async def check() -> None:
        await ping(pool, timeout_s)

    return check


@asynccontextmanager
async def acquired(conn_or_pool: asyncpg.Connection | asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection: the one given, or one borrowed from the pool for the block."""
    if isinstance(conn_or_pool, asyncpg.Pool):
        async with conn_or_pool.acquire() as conn:
            yield conn
    else:
        yield conn_or_pool
