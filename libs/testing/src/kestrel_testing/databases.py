"""Throwaway databases on the real PostgreSQL server, one per test that needs isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kestrel_store.databases import create_database, drop_database, with_database

__all__ = ["temporary_database", "with_database"]


@asynccontextmanager
async def temporary_database(server_url: str, name: str) -> AsyncIterator[str]:
    url = await create_database(server_url, name)
    try:
        yield url
    finally:
        await drop_database(server_url, name)
