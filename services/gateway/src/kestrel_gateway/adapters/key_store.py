"""gateway.api_keys in PostgreSQL: create (the key is returned once, only its hash is stored), find,
list, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kestrel_gateway.keys import IssuedKey, Role, generate_key

__all__ = ["StoredKey", "create_key", "find_key", "list_keys", "revoke_key"]

_COLUMNS = "key_id, key_hash, name, role, created_at, revoked_at"


@dataclass(frozen=True, slots=True)
class StoredKey:
    key_id: str
    key_hash: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _stored(row: asyncpg.Record) -> StoredKey:
    return StoredKey(
        key_id=row["key_id"],
        key_hash=row["key_hash"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


async def create_key(
    db: asyncpg.Pool | asyncpg.Connection, name: str, role: Role
) -> tuple[IssuedKey, StoredKey]:
    if not name.strip():
        raise ValueError("a key needs a name (who or what uses it)")
    issued = generate_key()
    row = await db.fetchrow(
        f"INSERT INTO gateway.api_keys (key_id, key_hash, name, role) VALUES ($1, $2, $3, $4) "
        f"RETURNING {_COLUMNS}",
        issued.key_id,
        issued.key_hash,
        name.strip(),
        role.value,
    )
    return issued, _stored(row)


async def find_key(db: asyncpg.Pool | asyncpg.Connection, key_id: str) -> StoredKey | None:
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM gateway.api_keys WHERE key_id = $1", key_id)
    return None if row is None else _stored(row)


async def list_keys(
    db: asyncpg.Pool | asyncpg.Connection, *, include_revoked: bool = False
) -> list[StoredKey]:
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    rows = await db.fetch(f"SELECT {_COLUMNS} FROM gateway.api_keys {where} ORDER BY created_at, key_id")
    return [_stored(row) for row in rows]


async def revoke_key(db: asyncpg.Pool | asyncpg.Connection, key_id: str) -> bool:
    """True when an active key was revoked now; False when unknown or already revoked."""
    status: str = await db.execute(
        "UPDATE gateway.api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
    )
    return status.endswith(" 1")
