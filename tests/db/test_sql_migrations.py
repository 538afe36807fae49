"""Migrations build the schema of `canone.db.tables`, on an empty database of each kind."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from canone.db.database import Database, NotMigrated, normalise_url
from canone.db.tables import metadata


def test_migrate_builds_the_schema_on_an_empty_database(empty_database: Database) -> None:
    assert not empty_database.is_migrated()
    assert empty_database.revision() is None
    with pytest.raises(NotMigrated, match="canone db upgrade"):
        empty_database.require_migrated()

    empty_database.migrate()

    assert empty_database.is_migrated()
    empty_database.require_migrated()
    tables = set(inspect(empty_database.engine).get_table_names())
    assert tables == {t.name for t in metadata.sorted_tables} | {"alembic_version"}


def test_migrating_twice_changes_nothing(empty_database: Database) -> None:
    empty_database.migrate()
    empty_database.migrate()
    assert empty_database.is_migrated()


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_the_migrated_schema_matches_the_tables(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_a_transaction_works_right_after_migrating(empty_database: Database) -> None:
    empty_database.migrate()
    with empty_database.transaction() as store:
        assert store.invoices.next_number(2026) == "2026-000001"


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u:p@h:5433/db", "postgresql+psycopg://u:p@h:5433/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///canone.db", "sqlite:///canone.db"),
])
def test_database_urls(given: str, used: str) -> None:
    assert normalise_url(given) == used


def test_an_unknown_kind_of_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database URL 'h/db'"):
        Database("mysql://u:secret@h/db")


def test_sqlite_is_set_up_for_concurrent_writers(sqlite_database: Database) -> None:
    with sqlite_database.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 30000
