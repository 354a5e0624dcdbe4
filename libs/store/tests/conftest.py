"""Fixtures for the store's integration tests: every test gets its own, freshly created database.

The server comes from KESTREL_DATABASE_URL (default: the local infrastructure's PostgreSQL). Its
role must be allowed to CREATE DATABASE. Each database is created from the URL's own database and
dropped (WITH (FORCE)) after the test, so tests never see each other's data or migrations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import pytest

from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool, database_url_from_env


def url_with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server (query string kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def _admin_connection(server_url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(server_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        host = urlsplit(server_url).netloc.rsplit("@", 1)[-1]
        pytest.fail(
            f"PostgreSQL at {host} is not reachable ({exc}). Start the local infrastructure "
            "(make infra-up) or point KESTREL_DATABASE_URL at a server.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def server_url() -> str:
    return database_url_from_env()


@pytest.fixture
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """URL of a new, empty database, dropped after the test."""
    name = f"kestrel_test_{uuid4().hex[:16]}"
    admin = await _admin_connection(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield url_with_database(server_url, name)
    finally:
        admin = await _admin_connection(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def migrated_database(fresh_database: str) -> str:
    """URL of a fresh database with every packaged migration applied."""
    await apply_migrations(fresh_database)
    return fresh_database


@pytest.fixture
async def pool(migrated_database: str) -> AsyncIterator[asyncpg.Pool]:
    store_pool = await create_pool(migrated_database, application_name="kestrel-store-tests", max_size=4)
    try:
        yield store_pool
    finally:
        await store_pool.close()
