"""`Database`: an engine for an SQLite file or a PostgreSQL server, its migrations, and its
transactions (each one a `SqlStore`).

SQLite runs in WAL mode with foreign keys on, a 30 s busy timeout, and BEGIN IMMEDIATE for
every transaction, so writers queue up instead of failing on a lock upgrade. PostgreSQL
runs at READ COMMITTED in UTC; rows a transaction will change are read FOR UPDATE.
"""

from __future__ import annotations

import select
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import StaticPool

from canone.db.held import send_held
from canone.db.store import SqlStore
from canone.services import idempotency

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 7_261_600  # any constant: the PostgreSQL advisory lock key of migrations


class NotMigrated(Exception):
    """The database schema is not at the latest revision."""


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` mean PostgreSQL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_engine(url: str) -> Engine:
    options: dict[str, Any] = {}
    if make_url(url).database in (None, "", ":memory:"):
        # One shared connection, or every pooled connection would see its own empty db.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000",
                       "synchronous=NORMAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        driver = _sqlite_driver(connection)
        if not driver.in_transaction:  # (a read's: `Database.read` began it)
            _on_sqlite3(driver, "BEGIN IMMEDIATE")

    return engine


def _sqlite_driver(connection: Connection) -> sqlite3.Connection:
    return connection.connection.driver_connection  # type: ignore[return-value]


def _on_sqlite3(driver: sqlite3.Connection, statement: str) -> None:
    """BEGIN or ROLLBACK on sqlite3 itself: through SQLAlchemy (a transaction's begin and
    rollback, exec_driver_sql) they were two thirds of an empty read's CPU. An error is
    raised as SQLAlchemy raises it."""
    try:
        driver.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


def _end_read(driver: sqlite3.Connection) -> None:
    if driver.in_transaction:  # (a transaction on the same connection may have ended it)
        _on_sqlite3(driver, "ROLLBACK")


def _postgres_engine(url: str) -> Engine:
    # No pool_pre_ping: it costs a round trip (SELECT 1) at every checkout, that is for
    # every transaction, which is a fifth of the round trips of an API preview. What it
    # guards against is handing out a connection the server has closed (a restart, a
    # terminated backend). Such a server says goodbye before closing, so an idle pooled
    # connection with something to read is one it closed: `_closed_by_server` checks that
    # with one poll() that does not wait, and the pool then opens a new connection.
    # pool_recycle renews connections before idle timeouts of the server or of anything in
    # between can drop them without a word; a connection lost that way anyhow fails one
    # transaction, and SQLAlchemy then replaces every pooled connection of that server.
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800,
                           connect_args={"options": "-c timezone=UTC"})

    # Writes held while a counter is taken are sent before any other statement.
    event.listen(engine, "before_cursor_execute", send_held)

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if _closed_by_server(dbapi_connection):
            raise DisconnectionError("the server closed this pooled connection")

    return engine


def _closed_by_server(connection: Any) -> bool:
    """Whether an idle psycopg connection is closed or has unread input (the server's
    goodbye: an idle connection is sent nothing else, as canone never LISTENs)."""
    if connection.closed or connection.broken:
        return True
    poller = select.poll()
    try:
        poller.register(connection.fileno(), select.POLLIN)
    except (OSError, ValueError):
        return True
    return bool(poller.poll(0))


class Database:
    """The `Database` port. `Database(url)` opens nothing until first used. Its write
    transactions carry the request's Idempotency-Key claim (`idempotency.Ride`)."""

    carries_rides = True

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        if self.url.startswith("sqlite"):
            self.engine = _sqlite_engine(self.url)
        elif self.url.startswith("postgresql+psycopg"):
            self.engine = _postgres_engine(self.url)
        else:
            raise ValueError(f"unsupported database URL {url.split('@')[-1]!r}: use "
                             "sqlite:///path/to/file.db or postgresql://user@host/name")
        self.postgres = self.engine.dialect.name == "postgresql"
        # The store of the transaction this thread (or task) has open here, if any: what
        # asks for the time inside one reads the test clock on its connection
        # (`StoredTestClock`) instead of checking out a second.
        self._open: ContextVar[SqlStore | None] = ContextVar(f"canone_store_{id(self)}",
                                                             default=None)
        # The read this thread (or task) has open here, if any: a read inside it shares it.
        self._read: ContextVar[SqlStore | None] = ContextVar(f"canone_read_{id(self)}",
                                                             default=None)

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def transaction(self) -> Iterator[SqlStore]:
        """One unit of work: commits when the block ends, rolls back on an exception."""
        ride = idempotency.ride()
        reading = self._read.get()
        # A read inside the transaction is a read of its own, as it was before reads nested.
        with (self.engine.begin() as connection, self._opened(SqlStore(connection)) as store,
              self._opened_read(None)):
            try:
                if ride is not None:
                    ride.board(store)
                yield store
                store.flush(commit=True)
            finally:
                store.release_held()
        if ride is not None:
            ride.committed()
        if reading is not None and not self.postgres:
            # The read open around this transaction reads on from a snapshot taken after
            # it, so that what follows sees what it wrote.
            driver = _sqlite_driver(reading.connection)
            _end_read(driver)
            _on_sqlite3(driver, "BEGIN")

    @contextmanager
    def read(self) -> Iterator[SqlStore]:
        """A read for use cases that only read: on SQLite a transaction with a plain deferred
        BEGIN (it does not queue behind writers; its statements share one snapshot), always
        rolled back; on PostgreSQL each statement on its own (autocommit). A read inside a
        read shares it: a page's sign-in and its data take one connection."""
        ride = idempotency.ride()
        if ride is not None and ride.keeping:
            # A request that changes nothing stores its answer here, then commits: one
            # transaction instead of this one and another for the answer.
            with self.transaction() as store:
                yield store
            return
        outer = self._read.get()
        if outer is not None:  # (a transaction clears it for its own reads)
            yield outer
            return
        with self._reading() as store, self._opened(store), self._opened_read(store):
            yield store

    @contextmanager
    def _reading(self) -> Iterator[SqlStore]:
        if self.postgres:
            # At READ COMMITTED, PostgreSQL's level here, each statement of a transaction
            # sees a snapshot of its own, as it does on its own: BEGIN READ ONLY and
            # ROLLBACK were two round trips of each read that bought nothing (two of a live
            # quote's nine, the sign-in's read being one statement).
            with self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                yield SqlStore(connection)
            return
        with self.engine.connect() as connection:
            # Begun and ended on sqlite3 itself; a statement through SQLAlchemy (which
            # begins a transaction of its own first) finds it open (`_begin`).
            driver = _sqlite_driver(connection)
            _on_sqlite3(driver, "BEGIN")
            try:
                yield SqlStore(connection)
            finally:
                _end_read(driver)

    @contextmanager
    def _opened(self, store: SqlStore) -> Iterator[SqlStore]:
        token = self._open.set(store)
        try:
            yield store
        finally:
            self._open.reset(token)

    @contextmanager
    def _opened_read(self, store: SqlStore | None) -> Iterator[None]:
        token = self._read.set(store)
        try:
            yield
        finally:
            self._read.reset(token)

    def open_store(self) -> SqlStore | None:
        """The store of the transaction (or read) the caller has open, if any."""
        return self._open.get()

    def dispose(self) -> None:
        self.engine.dispose()

    # -- migrations --------------------------------------------------------------------

    def alembic_config(self, connection: Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision` (alembic upgrade), in one transaction."""
        with self.engine.begin() as connection:
            if self.postgres:  # two processes migrating at once take turns
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                   {"k": _MIGRATION_LOCK})
            command.upgrade(self.alembic_config(connection), revision)

    def revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def is_migrated(self) -> bool:
        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        return self.revision() == head

    def require_migrated(self) -> None:
        """Raise `NotMigrated` with what to run, unless the schema is up to date."""
        if not self.is_migrated():
            raise NotMigrated(f"the database {self!r} is not migrated to the current schema; "
                              "run `canone db upgrade` first")
