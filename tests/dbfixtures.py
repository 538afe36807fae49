"""Database fixtures for tests anywhere (registered by `pytest_plugins` in tests/conftest.py).

- `database`: a migrated, empty `Database`, once on SQLite and once on PostgreSQL (and, in
  tests/services and tests/db, once on the in-memory store: `WITH_MEMORY`).
- `sqlite_database`, `postgres_database`: the same on one backend.
- `empty_database`: an unmigrated database on each backend (for migration tests).

SQLite: a copy of a template file migrated once per session, in the test's tmp_path.
PostgreSQL: one database `canone_test_<random>` per session and xdist worker, migrated once,
every table emptied before each test, dropped at the end. The server is
$CANONE_TEST_POSTGRES_URL, else 127.0.0.1:5432 as user postgres or root (trust auth); when
it cannot be reached the PostgreSQL tests skip, saying why.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from canone.db.database import Database, normalise_url
from canone.db.tables import ALL_TABLES

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# DELETE, children first, is much faster than TRUNCATE on tables this small.
_EMPTY_ALL = "SET LOCAL lock_timeout = '20s';" + "".join(
    f'DELETE FROM "{table.name}";' for table in ALL_TABLES)


def _server_candidates() -> list[str]:
    configured = os.environ.get("CANONE_TEST_POSTGRES_URL")
    if configured:
        return [configured]
    return [f"postgresql://{user}@127.0.0.1:5432/postgres" for user in ("postgres", "root")]


def _libpq(url: str) -> str:
    return make_url(normalise_url(url)).set(drivername="postgresql").render_as_string(False)


def _admin(server: str, sql: str) -> None:
    with psycopg.connect(_libpq(server), autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


def _database_url(server: str, name: str) -> str:
    return make_url(normalise_url(server)).set(database=name).render_as_string(False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a reachable PostgreSQL server's maintenance database, or skip."""
    errors = []
    for url in _server_candidates():
        try:
            _admin(url, "SELECT 1")
        except psycopg.Error as exc:
            errors.append(f"{make_url(url).username}: {str(exc).strip().splitlines()[0]}")
        else:
            return url
    pytest.skip("PostgreSQL is not reachable (" + "; ".join(errors) + "); start it or set "
                "CANONE_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def _postgres_session_database(postgres_server: str) -> Iterator[Database]:
    name = f"canone_test_{secrets.token_hex(6)}"
    _admin(postgres_server, f'CREATE DATABASE "{name}"')
    _admin(postgres_server, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    database = Database(_database_url(postgres_server, name))
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()
        _admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database(_postgres_session_database: Database) -> Database:
    """The session's PostgreSQL database with every table emptied."""
    database = _postgres_session_database
    with database.engine.begin() as connection:
        connection.exec_driver_sql(_EMPTY_ALL)
    return database


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "canone.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()  # the last connection out checkpoints the WAL into the file
    return path


@pytest.fixture
def sqlite_database(_sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite file of this test's own."""
    path = tmp_path / "canone.db"
    shutil.copyfile(_sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Database:
    """A migrated, empty database; the test runs once on SQLite and once on PostgreSQL."""
    return on_backend(request)


# For a conftest.py whose tests also run on the in-memory store (tests/memory_store.py):
#     @pytest.fixture(params=WITH_MEMORY)
#     def database(request): return on_backend(request)
# A test that needs SQL itself is marked `@pytest.mark.sql("why")`: its in-memory run is
# deselected (tests/conftest.py).
WITH_MEMORY = [*BACKENDS, "memory"]


def on_backend(request: pytest.FixtureRequest) -> Database:
    """The database of the fixture's parameter: "sqlite", "postgres" or "memory"."""
    if request.param == "memory":
        from memory_store import MemoryDatabase

        return MemoryDatabase()  # type: ignore[return-value]  # the port, not the class
    found: Database = request.getfixturevalue(f"{request.param}_database")
    return found


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables at all, on each backend."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"canone_test_{secrets.token_hex(6)}"
    _admin(server, f'CREATE DATABASE "{name}"')
    database = Database(_database_url(server, name))
    try:
        yield database
    finally:
        database.dispose()
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
