"""Migration discovery, ordering, checksums and planning: pure logic, no database."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kestrel_store.migration_files import (
    AppliedMigration,
    ChecksumMismatchError,
    Migration,
    MigrationError,
    checksum_of,
    discover_migrations,
    plan_migrations,
    validate_sequence,
)


def _write(folder: Path, name: str, sql: str = "SELECT 1;\n") -> None:
    (folder / name).write_text(sql, encoding="utf-8", newline="")


def _applied(migration: Migration, checksum: str | None = None) -> AppliedMigration:
    return AppliedMigration(migration.version, migration.name, checksum or migration.checksum)


def test_packaged_migrations_are_contiguous_and_well_named() -> None:
    migrations = discover_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    labels = [m.label for m in migrations]
    assert labels[0] == "0001_timeseries_foundation"
    assert {"0002_market", "0003_features", "0004_trading", "0005_backtest", "0006_audit"} <= set(labels)
    assert all(m.sql.strip() for m in migrations)


def test_packaged_migrations_create_every_design_schema() -> None:
    text = "\n".join(m.sql for m in discover_migrations())
    for schema in ("market", "features", "trading", "backtest", "audit"):
        assert f"CREATE SCHEMA IF NOT EXISTS {schema};" in text


def test_discovery_orders_by_version_and_ignores_non_sql_files(tmp_path: Path) -> None:
    _write(tmp_path, "0003_third.sql")
    _write(tmp_path, "0001_first.sql")
    _write(tmp_path, "0002_second_one.sql")
    _write(tmp_path, "__init__.py", "")
    _write(tmp_path, "README.md", "notes")
    (tmp_path / "0004_a_directory.sql").mkdir()

    migrations = discover_migrations(tmp_path)

    assert [m.label for m in migrations] == ["0001_first", "0002_second_one", "0003_third"]


def test_ten_and_more_sort_numerically(tmp_path: Path) -> None:
    for version in range(1, 12):
        _write(tmp_path, f"{version:04d}_step_{version}.sql")
    assert [m.version for m in discover_migrations(tmp_path)] == list(range(1, 12))


@pytest.mark.parametrize(
    "bad_name",
    ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "0001_.sql", "0001_trailing_.sql", "abcd_x.sql"],
)
def test_misnamed_sql_file_is_an_error_not_skipped(tmp_path: Path, bad_name: str) -> None:
    _write(tmp_path, "0001_first.sql")
    _write(tmp_path, bad_name)
    with pytest.raises(MigrationError, match="is not named NNNN_"):
        discover_migrations(tmp_path)


def test_duplicate_version_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql")
    _write(tmp_path, "0002_orders.sql")
    _write(tmp_path, "0002_fills.sql")
    with pytest.raises(MigrationError, match="duplicate migration version 0002"):
        discover_migrations(tmp_path)


def test_gap_in_versions_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql")
    _write(tmp_path, "0003_third.sql")
    with pytest.raises(MigrationError, match="0002 is missing before 0003_third"):
        discover_migrations(tmp_path)


def test_versions_must_start_at_one() -> None:
    with pytest.raises(MigrationError, match="0001 is missing"):
        validate_sequence([Migration(2, "second", "SELECT 2")])


def test_checksum_is_sha256_of_text_with_lf_line_endings(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "SELECT 1;\r\nSELECT 2;\r\n")
    (migration,) = discover_migrations(tmp_path)
    expected = hashlib.sha256(b"SELECT 1;\nSELECT 2;\n").hexdigest()
    assert migration.checksum == expected
    assert checksum_of("SELECT 1;\nSELECT 2;\n") == expected


def test_checksum_changes_with_any_edit() -> None:
    assert checksum_of("SELECT 1;") != checksum_of("SELECT 1; ")
    assert checksum_of("SELECT 1;") != checksum_of("select 1;")


def test_plan_on_empty_database_is_everything_in_order() -> None:
    migrations = [Migration(1, "a", "SELECT 1"), Migration(2, "b", "SELECT 2"), Migration(3, "c", "SELECT 3")]
    assert plan_migrations(migrations, {}) == migrations


def test_plan_skips_applied_migrations() -> None:
    first, second, third = (Migration(v, n, f"SELECT {v}") for v, n in ((1, "a"), (2, "b"), (3, "c")))
    applied = {1: _applied(first), 2: _applied(second)}
    assert plan_migrations([first, second, third], applied) == [third]
    assert plan_migrations([first, second, third], {**applied, 3: _applied(third)}) == []


def test_plan_rejects_an_edited_applied_migration() -> None:
    original = Migration(1, "a", "CREATE TABLE t (id int);")
    edited = Migration(1, "a", "CREATE TABLE t (id bigint);")
    with pytest.raises(ChecksumMismatchError, match="0001_a was modified after it was applied"):
        plan_migrations([edited, Migration(2, "b", "SELECT 2")], {1: _applied(original)})


def test_plan_rejects_a_database_migrated_by_newer_code() -> None:
    first = Migration(1, "a", "SELECT 1")
    future = AppliedMigration(2, "from_the_future", "0" * 64)
    with pytest.raises(MigrationError, match="does not know: 0002_from_the_future"):
        plan_migrations([first], {1: _applied(first), 2: future})
