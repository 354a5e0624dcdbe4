"""The one migrations runner: applies ``kestrel_store/migrations/NNNN_*.sql`` in order.

    uv run python -m kestrel_store.migrate [--database-url URL] [--status]

- History lives in ``public.schema_migrations`` (version, name, checksum, applied_at, duration_ms).
- Each migration runs in its own transaction together with its history row: it is applied entirely
  or not at all, and a failure leaves the earlier ones applied.
- Runners are serialized by a session-level advisory lock, so several replicas starting at once is
  safe: the first applies, the others wait and then find nothing to do.
- An applied file whose checksum changed is an error (``ChecksumMismatchError``), before anything runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from kestrel_store.migration_files import (
    AppliedMigration,
    Migration,
    MigrationError,
    discover_migrations,
    plan_migrations,
)
from kestrel_store.pool import DATABASE_URL_ENV, database_url_from_env

# Arbitrary constant (advisory locks are per database, so it only has to be unique within one).
MIGRATION_LOCK_KEY = 7_406_291_538_112_001

HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer     NOT NULL
)
"""


@asynccontextmanager
async def _connection(dsn_or_pool: str | asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(dsn_or_pool, str):
        conn = await asyncpg.connect(dsn_or_pool)
        try:
            yield conn
        finally:
            await conn.close()
    else:
        async with dsn_or_pool.acquire() as conn:
            yield conn


@asynccontextmanager
async def _migration_lock(conn: asyncpg.Connection) -> AsyncIterator[None]:
    # Migrations may legitimately outlast a pool's statement_timeout (and so may waiting for the
    # lock while another runner works); the pool's reset on release restores the setting.
    await conn.execute("SET statement_timeout = 0")
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


async def _applied(conn: asyncpg.Connection) -> dict[int, AppliedMigration]:
    rows = await conn.fetch("SELECT version, name, checksum FROM public.schema_migrations")
    return {
        row["version"]: AppliedMigration(version=row["version"], name=row["name"], checksum=row["checksum"])
        for row in rows
    }


async def _apply_one(conn: asyncpg.Connection, migration: Migration) -> None:
    started = time.perf_counter()
    try:
        async with conn.transaction():
            # No arguments: asyncpg sends the simple-query protocol, so one file may hold many statements.
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO public.schema_migrations (version, name, checksum, duration_ms) "
                "VALUES ($1, $2, $3, $4)",
                migration.version,
                migration.name,
                migration.checksum,
                round((time.perf_counter() - started) * 1000),
            )
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"migration {migration.label} failed and was rolled back: {exc}") from exc


async def apply_migrations(
    dsn_or_pool: str | asyncpg.Pool, migrations: Sequence[Migration] | None = None
) -> list[str]:
    """Apply every pending migration; return the labels applied (empty when already up to date).

    ``migrations`` defaults to the packaged files; tests pass their own list.
    """
    available = discover_migrations() if migrations is None else list(migrations)
    applied_now: list[str] = []
    async with _connection(dsn_or_pool) as conn, _migration_lock(conn):
        await conn.execute(HISTORY_DDL)
        for migration in plan_migrations(available, await _applied(conn)):
            await _apply_one(conn, migration)
            applied_now.append(migration.label)
    return applied_now


async def migration_status(
    dsn_or_pool: str | asyncpg.Pool, migrations: Sequence[Migration] | None = None
) -> tuple[list[str], list[str]]:
    """(applied labels, pending labels), after the same checks ``apply_migrations`` makes."""
    available = discover_migrations() if migrations is None else list(migrations)
    async with _connection(dsn_or_pool) as conn:
        exists = await conn.fetchval("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
        applied = await _applied(conn) if exists else {}
    pending = plan_migrations(available, applied)
    done = [m.label for m in available if m.version in applied]
    return done, [m.label for m in pending]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kestrel_store.migrate", description="Apply Kestrel's SQL migrations in order."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"PostgreSQL URL (default: ${DATABASE_URL_ENV}, else the local infrastructure's database)",
    )
    parser.add_argument(
        "--status", action="store_true", help="list applied and pending migrations; apply none"
    )
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    url = args.database_url or database_url_from_env()
    if args.status:
        done, pending = await migration_status(url)
        for label in done:
            print(f"applied  {label}")
        for label in pending:
            print(f"pending  {label}")
        return
    applied = await apply_migrations(url)
    for label in applied:
        print(f"applied  {label}")
    print(f"{len(applied)} migration(s) applied" if applied else "database is up to date")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        asyncio.run(_run(args))
    except MigrationError as exc:
        print(f"migration error: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"cannot migrate the database: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
