"""Whole databases on one PostgreSQL server: derive a sibling URL, create or drop one.

`kestrel demo` replays into its own database, recreated on every run so its summary describes that
run alone; the test fixtures make throwaway databases the same way.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same server, with the same credentials."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _checked(name: str) -> str:
    # Identifiers cannot be bound as parameters, so only plain names are accepted.
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    return name


async def create_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{_checked(name)}"')
    finally:
        await admin.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    """Drop `name` if it exists, disconnecting whoever still uses it."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')
    finally:
        await admin.close()


async def recreate_database(server_url: str, name: str) -> str:
    await drop_database(server_url, name)
    return await create_database(server_url, name)
