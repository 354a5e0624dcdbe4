"""`kestrel keys ...`: create, list and revoke the gateway's API keys (directly in PostgreSQL).

This is how the first admin key comes to exist: whoever can reach the database is already trusted
with everything the key grants. A new key is printed once and never stored; lose it and revoke it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from kestrel_gateway.adapters.key_store import StoredKey, create_key, list_keys, revoke_key
from kestrel_gateway.keys import IssuedKey, Role
from kestrel_gateway.settings import GatewaySettings
from kestrel_platform.settings import load_settings_or_exit

app = typer.Typer(help="Manage the gateway's API keys.", no_args_is_help=True)
console = Console()
T = TypeVar("T")


def _with_connection(database_url: str | None, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    url = database_url or load_settings_or_exit(GatewaySettings).database_url

    async def run() -> T:
        connection = await asyncpg.connect(url)
        try:
            return await work(connection)
        finally:
            await connection.close()

    try:
        return asyncio.run(run())
    except asyncpg.UndefinedTableError:
        console.print("[red]gateway.api_keys does not exist: run the migrations first (make migrate)[/red]")
        raise typer.Exit(1) from None


def issue_key(database_url: str, name: str, role: Role) -> tuple[IssuedKey, StoredKey]:
    """Create a key (what `kestrel keys create` runs; the demo and tests call it too)."""
    return _with_connection(database_url, lambda conn: create_key(conn, name, role))


_DATABASE_URL = typer.Option(None, "--database-url", help="default: KESTREL_DATABASE_URL")


@app.command()
def create(
    name: str = typer.Option(..., "--name", help="Who or what uses the key, e.g. ops, grafana, alice."),
    role: Role = typer.Option(Role.VIEWER, "--role", help="viewer | trader | admin"),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Create a key and print it ONCE (only its hash is stored)."""
    if not name.strip():
        raise typer.BadParameter("must not be empty", param_hint="--name")
    issued, stored = _with_connection(database_url, lambda conn: create_key(conn, name, role))
    console.print(f"created {stored.role.value} key {stored.key_id} ({stored.name}); it is shown only now:")
    typer.echo(issued.key)


@app.command("list")
def list_(
    include_revoked: bool = typer.Option(False, "--all", help="Include revoked keys."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """List keys (ids, names, roles; never secrets)."""
    keys = _with_connection(database_url, lambda conn: list_keys(conn, include_revoked=include_revoked))
    table = Table("key id", "name", "role", "created", "revoked")
    for key in keys:
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
        table.add_row(
            key.key_id, key.name, key.role.value, key.created_at.isoformat(timespec="seconds"), revoked
        )
    console.print(table)


@app.command()
def revoke(
    key_id: str = typer.Argument(..., help="The key id (the part after kst_)."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Revoke a key: it stops working on the next request."""
    if not _with_connection(database_url, lambda conn: revoke_key(conn, key_id)):
        console.print(f"[red]no active key {key_id}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")
