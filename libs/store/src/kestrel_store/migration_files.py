"""Migration files: discovery, ordering, checksums, and the plan of what still has to run.

Pure code (no database) so that every rule here is unit-tested without a server. The runner that
applies a plan is ``kestrel_store.migrate``.

Rules:
- a migration is ``NNNN_<name>.sql`` (four digits, lower-case snake_case name) in the migrations folder;
- versions start at 1 and have no gaps or duplicates (a gap is almost always a lost file);
- a file, once applied, never changes: its checksum (SHA-256 of the text with line endings
  normalised to LF, so a Windows checkout does not look like an edit) is compared on every run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")


class MigrationError(Exception):
    """A migration cannot be discovered, planned or applied."""


class ChecksumMismatchError(MigrationError):
    """An already-applied migration file was edited after it ran."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        """``0001_timeseries_foundation``: how migrations are named in logs and return values."""
        return f"{self.version:04d}_{self.name}"

    @property
    def checksum(self) -> str:
        return checksum_of(self.sql)


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """A row of ``public.schema_migrations``."""

    version: int
    name: str
    checksum: str


def checksum_of(sql: str) -> str:
    normalised = sql.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def packaged_migrations_dir() -> Traversable:
    """The SQL files shipped inside this package (``kestrel_store/migrations``)."""
    return resources.files("kestrel_store").joinpath("migrations")


def discover_migrations(directory: Traversable | Path | None = None) -> list[Migration]:
    """Every migration in ``directory`` (default: the packaged ones), ordered by version.

    ``.sql`` files that do not follow the naming rule are an error rather than silently skipped, so a
    misnamed migration cannot quietly never run. Other files (``__init__.py``, notes) are ignored.
    """
    folder = packaged_migrations_dir() if directory is None else directory
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.is_file() or not entry.name.endswith(".sql"):
            continue
        match = MIGRATION_FILE.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {entry.name!r} is not named NNNN_<lower_snake_name>.sql "
                "(e.g. 0007_add_orders.sql)"
            )
        sql = entry.read_bytes().decode("utf-8")
        found.append(Migration(version=int(match["version"]), name=match["name"], sql=sql))
    return validate_sequence(found)


def validate_sequence(migrations: Iterable[Migration]) -> list[Migration]:
    """Sorted by version; versions must run 1, 2, 3, ... without duplicates or gaps."""
    ordered = sorted(migrations, key=lambda m: m.version)
    for expected, migration in enumerate(ordered, start=1):
        if migration.version < expected:
            twins = [m.label for m in ordered if m.version == migration.version]
            raise MigrationError(f"duplicate migration version {migration.version:04d}: {', '.join(twins)}")
        if migration.version > expected:
            raise MigrationError(
                f"migration versions must be contiguous from 0001: {expected:04d} is missing "
                f"before {migration.label}"
            )
    return ordered


def plan_migrations(
    available: Sequence[Migration], applied: Mapping[int, AppliedMigration]
) -> list[Migration]:
    """The migrations still to apply, in order, after checking the history in the database.

    Raises ``ChecksumMismatchError`` when an applied file changed since it ran, and ``MigrationError``
    when the database records a version this code does not have (it was migrated by newer code).
    """
    by_version = {m.version: m for m in available}
    unknown = sorted(set(applied) - set(by_version))
    if unknown:
        names = ", ".join(f"{applied[v].version:04d}_{applied[v].name}" for v in unknown)
        raise MigrationError(
            f"the database has migrations this code does not know: {names}; run a newer kestrel_store"
        )
    for version, record in sorted(applied.items()):
        migration = by_version[version]
        if record.checksum != migration.checksum:
            raise ChecksumMismatchError(
                f"migration {migration.label} was modified after it was applied "
                f"(recorded checksum {record.checksum[:12]}…, file now {migration.checksum[:12]}…). "
                "Applied migrations are immutable: restore the file and add a new migration instead."
            )
    return [m for m in available if m.version not in applied]
