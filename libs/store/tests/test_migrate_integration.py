"""The migrations runner against a real PostgreSQL, one fresh database per test."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest

from kestrel_store.migrate import apply_migrations, migration_status
from kestrel_store.migration_files import (
    ChecksumMismatchError,
    Migration,
    MigrationError,
    discover_migrations,
)

pytestmark = pytest.mark.integration

SCHEMAS = ("kestrel", "market", "features", "trading", "backtest", "audit")
EXPECTED_TABLES = {
    "market.bars",
    "market.ticks",
    "features.feature_sets",
    "features.vectors",
    "trading.orders",
    "trading.fills",
    "trading.positions",
    "trading.accounts",
    "trading.signals",
    "trading.risk_decisions",
    "backtest.runs",
    "audit.events",
    "kestrel.timeseries_tables",
}
TIMESERIES = {
    "market.bars",
    "market.ticks",
    "features.vectors",
    "trading.fills",
    "trading.signals",
    "trading.risk_decisions",
    "audit.events",
}


async def _relations(conn: asyncpg.Connection) -> dict[str, str]:
    """Every table (plain, partitioned, partition) in Kestrel's schemas, by name -> relkind."""
    rows = await conn.fetch(
        "SELECT n.nspname || '.' || c.relname AS name, c.relkind::text AS relkind FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p')",
        list(SCHEMAS),
    )
    return {row["name"]: row["relkind"] for row in rows}


async def test_apply_twice_applies_everything_then_nothing(fresh_database: str) -> None:
    packaged = discover_migrations()

    first = await apply_migrations(fresh_database)
    conn = await asyncpg.connect(fresh_database)
    try:
        relations_after_first = await _relations(conn)
        history = await conn.fetch("SELECT version, name, checksum, applied_at FROM public.schema_migrations")

        second = await apply_migrations(fresh_database)

        assert await _relations(conn) == relations_after_first
        assert await conn.fetchval("SELECT count(*) FROM public.schema_migrations") == len(packaged)
    finally:
        await conn.close()

    assert first == [m.label for m in packaged]
    assert second == []
    assert {(r["version"], r["name"], r["checksum"]) for r in history} == {
        (m.version, m.name, m.checksum) for m in packaged
    }
    assert all(r["applied_at"] is not None for r in history)
    assert set(relations_after_first) >= EXPECTED_TABLES


async def test_timeseries_tables_use_the_storage_this_server_supports(migrated_database: str) -> None:
    conn = await asyncpg.connect(migrated_database)
    try:
        has_timescale = await conn.fetchval("SELECT kestrel.has_timescaledb()")
        registered = await conn.fetch(
            "SELECT table_name::text AS name, storage FROM kestrel.timeseries_tables"
        )
        relations = await _relations(conn)
    finally:
        await conn.close()
    assert {r["name"] for r in registered} == TIMESERIES
    expected_storage = "hypertable" if has_timescale else "partitioned"
    assert {r["storage"] for r in registered} == {expected_storage}
    if has_timescale:
        conn = await asyncpg.connect(migrated_database)
        try:
            hypertables = await conn.fetch(
                "SELECT hypertable_schema || '.' || hypertable_name AS name "
                "FROM timescaledb_information.hypertables"
            )
        finally:
            await conn.close()
        assert {r["name"] for r in hypertables} == TIMESERIES
    else:
        # Natively partitioned parents (relkind 'p'), each with its DEFAULT partition.
        assert all(relations[name] == "p" for name in TIMESERIES)
        assert all(f"{name}_default" in relations for name in TIMESERIES)


async def test_status_lists_applied_and_pending(fresh_database: str) -> None:
    labels = [m.label for m in discover_migrations()]
    assert await migration_status(fresh_database) == ([], labels)
    await apply_migrations(fresh_database)
    assert await migration_status(fresh_database) == (labels, [])


async def test_checksum_mismatch_is_a_clear_error_and_applies_nothing(migrated_database: str) -> None:
    packaged = discover_migrations()
    tampered = [*packaged]
    tampered[1] = Migration(packaged[1].version, packaged[1].name, packaged[1].sql + "\n-- edited\n")
    extra = Migration(len(packaged) + 1, "never_applied", "CREATE TABLE public.should_not_exist (id int);")

    with pytest.raises(ChecksumMismatchError, match=f"{packaged[1].label} was modified after it was applied"):
        await apply_migrations(migrated_database, [*tampered, extra])

    conn = await asyncpg.connect(migrated_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.should_not_exist')") is None
        assert await conn.fetchval("SELECT count(*) FROM public.schema_migrations") == len(packaged)
    finally:
        await conn.close()


async def test_a_failing_migration_rolls_back_alone(fresh_database: str) -> None:
    good = Migration(1, "good", "CREATE TABLE public.kept (id int);")
    bad = Migration(
        2, "bad", "CREATE TABLE public.half_done (id int);\nSELECT no_such_column FROM public.kept;"
    )

    with pytest.raises(MigrationError, match="0002_bad failed and was rolled back"):
        await apply_migrations(fresh_database, [good, bad])

    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.kept')::text") == "kept"
        assert await conn.fetchval("SELECT to_regclass('public.half_done')") is None
        assert await conn.fetchval("SELECT array_agg(version) FROM public.schema_migrations") == [1]
    finally:
        await conn.close()


async def test_concurrent_runners_are_serialized(fresh_database: str) -> None:
    packaged = discover_migrations()
    # A slow last step guarantees the two runners overlap in time.
    slow = Migration(len(packaged) + 1, "slow_step", "SELECT pg_sleep(0.5);")
    migrations = [*packaged, slow]

    results = await asyncio.gather(
        apply_migrations(fresh_database, migrations), apply_migrations(fresh_database, migrations)
    )

    all_labels = [m.label for m in migrations]
    assert sorted(results, key=len) == [[], all_labels]
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM public.schema_migrations") == len(migrations)
    finally:
        await conn.close()


async def test_cli_applies_then_reports_up_to_date(fresh_database: str) -> None:
    async def run_cli(*args: str) -> tuple[int, str]:
        env = {k: v for k, v in os.environ.items() if k != "KESTREL_DATABASE_URL"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kestrel_store.migrate", *args,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await process.communicate()
        assert process.returncode is not None
        return process.returncode, output.decode()

    code, output = await run_cli("--database-url", fresh_database)
    assert code == 0, output
    assert "applied  0001_timeseries_foundation" in output

    code, output = await run_cli("--database-url", fresh_database)
    assert (code, output.strip()) == (0, "database is up to date")

    code, output = await run_cli("--database-url", fresh_database, "--status")
    assert code == 0
    assert "pending" not in output
    assert f"applied  {discover_migrations()[-1].label}" in output
