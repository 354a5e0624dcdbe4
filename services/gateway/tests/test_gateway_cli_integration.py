"""`kestrel keys ...` against a real database: the key is printed once, only its hash is stored."""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp
import asyncpg
import pytest
from typer.testing import CliRunner

from kestrel_gateway.cli import app, issue_key
from kestrel_gateway.keys import Role, parse_key
from kestrel_gateway.testing import Gateway

pytestmark = pytest.mark.integration


async def _row(url: str, key_id: str) -> asyncpg.Record:
    conn = await asyncpg.connect(url)
    try:
        row: asyncpg.Record = await conn.fetchrow("SELECT * FROM gateway.api_keys WHERE key_id = $1", key_id)
        return row
    finally:
        await conn.close()


async def test_keys_create_prints_the_key_once_and_stores_only_its_hash(migrated_database_url: str) -> None:
    runner = CliRunner()
    args = ["create", "--name", "ops", "--role", "admin", "--database-url", migrated_database_url]
    result = await asyncio.to_thread(runner.invoke, app, args)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    parsed = parse_key(key)
    row = await _row(migrated_database_url, parsed.key_id)
    assert (row["name"], row["role"], row["revoked_at"]) == ("ops", "admin", None)
    assert row["key_hash"] == hashlib.sha256(parsed.secret.encode()).hexdigest()
    assert all(parsed.secret not in str(value) for value in row.values())

    listed = await asyncio.to_thread(runner.invoke, app, ["list", "--database-url", migrated_database_url])
    assert parsed.key_id in listed.output and parsed.secret not in listed.output


async def test_a_revoked_key_stops_working(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    issued, _ = await asyncio.to_thread(issue_key, gateway.settings.database_url, "temp", Role.VIEWER)
    url = f"{gateway.url}/api/signals"
    async with http.get(url, headers={"X-API-Key": issued.key}) as response:
        assert response.status == 200
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["revoke", issued.key_id, "--database-url", gateway.settings.database_url]
    )
    assert result.exit_code == 0, result.output
    async with http.get(url, headers={"X-API-Key": issued.key}) as response:
        assert response.status == 401
    again = await asyncio.to_thread(
        CliRunner().invoke, app, ["revoke", issued.key_id, "--database-url", gateway.settings.database_url]
    )
    assert again.exit_code == 1 and "no active key" in again.output
