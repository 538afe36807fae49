"""What every repository of `SqlStore` shares: the connection and a few statement helpers."""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import Any, NamedTuple

import psycopg
from psycopg.errors import DivisionByZero, UniqueViolation
from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Row,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.types import TypeDecorator, TypeEngine

from canone.db.held import HELD, Failure, Held, driver_of, held_of
from canone.db.types import compact_encoder
from canone.services.errors import Conflict

# INSERT … ON CONFLICT DO NOTHING RETURNING <key>, by (dialect, table): see `insert_new`.
_INSERT_NEW: dict[tuple[str, str], Any] = {}
# UPDATE <table> … WHERE <key> = :saved_<key>, by (table, key columns): `update_by_key`.
_UPDATE_BY_KEY: dict[tuple[str, tuple[str, ...]], Any] = {}
# UPDATE <table> … FROM json_to_recordset, by (table, key column, columns): `_update_rows`.
_UPDATE_ROWS: dict[tuple[str, ...], str] = {}
# The SQL for psycopg of writes (held, or on PostgreSQL sent at once), by table, columns
# and form: see `Queries._psycopg_sql`.
_PSYCOPG_SQL: dict[tuple[str, tuple[str, ...], tuple[str, ...], bool, bool], str] = {}
# What a held write's failure means (`canone.db.held`): a taken key; any integrity error
# of a batch, as a batch sent at once says it (`insert_all`); no row to update.
_TAKEN: Failure = (UniqueViolation, Conflict, "{} already exists")
_BATCH_TAKEN: Failure = (psycopg.IntegrityError, Conflict, "{} already exists")
_MISSING: Failure = (DivisionByZero, LookupError, "{} does not exist")
# The bump of a gapless counter, by (dialect, table): INSERT (key, last) VALUES (:key,
# :step) ON CONFLICT (key) DO UPDATE SET last = last + :step RETURNING last, the statement
# and its SQL for psycopg (see `Queries.bump`).
_BUMPS: dict[tuple[str, str], tuple[Any, str]] = {}
# Each column's `_binder`, by (dialect, table, columns): see `Queries._row`.
_BINDERS: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, Any]]] = {}


class Prepared:
    """A SELECT built once, whose values are execution parameters (`bindparam`s), and its
    FOR UPDATE twin: the reads of every request then skip building the statement and its
    cache key (about half of SQLAlchemy's time per read, 50 us here). Each is compiled once
    more, to run on the driver's connection itself: psycopg's (`RawSelect`) or sqlite3's
    (`SqliteSelect`)."""

    def __init__(self, query: Select[Any]) -> None:
        self.plain = query
        self.for_update = query.with_for_update()
        self.raw: dict[bool, RawSelect] = {}  # by FOR UPDATE or not, made when first run
        self.sqlite: SqliteSelect | None = None

    def on_postgres(self, lock: bool, dialect: Dialect) -> RawSelect:
        raw = self.raw.get(lock)
        if raw is None:  # (threads that race here make the same one)
            raw = self.raw[lock] = RawSelect(self.for_update if lock else self.plain, dialect)
        return raw

    def on_sqlite(self) -> SqliteSelect:
        # No FOR UPDATE on SQLite: its writers' BEGIN IMMEDIATE already serialises them.
        raw = self.sqlite
        if raw is None:
            raw = self.sqlite = SqliteSelect(self.plain, _SQLITE_NAMED)
        return raw


class Rows(list[Any]):
    """The rows a `Prepared` read found, each read by index, by name and `_mapping` as a
    SQLAlchemy `Row` is."""

    def first(self) -> Any:
        return self[0] if self else None

    def scalar_one(self) -> Any:
        if len(self) != 1:
            raise LookupError(f"{len(self)} rows where one was expected")
        return self[0][0]


class RawSelect:
    """A prepared SELECT run on the transaction's psycopg connection (PostgreSQL), compiled
    once, its parameters and columns processed by their SQLAlchemy types as `execute` does
    (the processors SQLAlchemy's own results use), its rows named tuples. Through
    SQLAlchemy a read costs twice psycopg's own time (execution context, result metadata,
    Rows: ~80 us of ~160 here), and an API preview and confirm read 16 times."""

    def __init__(self, query: Select[Any], dialect: Dialect) -> None:
        compiled = query.compile(dialect=dialect)
        self.sql = str(compiled)
        self.dialect = dialect
        if compiled.literal_execute_params or compiled.post_compile_params:
            # SQLAlchemy renders these into the SQL at each execution (`in_()` lists…).
            raise ValueError(f"RawSelect cannot run {self.sql!r}: it has binds rendered at "
                             "execution (an in_() list or a literal_execute value)")
        self.fixed: dict[str, Any] = {}  # a LIMIT's, a constant's: converted once, here
        self.binders: list[tuple[str, Any]] = []
        for bind, name in compiled.bind_names.items():
            process = bind.type._cached_bind_processor(dialect)
            if not bind.required:
                value = bind.effective_value
                self.fixed[name] = value if process is None else process(value)
            elif process is not None:
                self.binders.append((name, process))
        self.types = [column.type for column in query.selected_columns]
        # The row type and each column's result processor, from the first answer's columns.
        self.shape: tuple[Any, list[tuple[int, Any]]] | None = None

    def rows(self, connection: Connection, values: dict[str, Any]) -> Rows:
        params = {**self.fixed, **values}
        for name, bind in self.binders:
            params[name] = bind(params[name])
        shape, found = self._run(connection, params)
        make, processors = shape
        if not processors:
            return Rows(map(make, found))
        processed = Rows()
        for row in found:
            listed = list(row)
            for i, process in processors:
                listed[i] = process(listed[i])
            processed.append(make(listed))
        return processed

    def _run(self, connection: Connection, params: dict[str, Any]
             ) -> tuple[tuple[Any, list[tuple[int, Any]]], list[Any]]:
        try:
            with driver_of(connection).cursor() as cursor:
                cursor.execute(self.sql, params)
                shape = self.shape or self._shape(
                    [(column.name, column.type_code) for column in cursor.description or []])
                return shape, cursor.fetchall()
        except psycopg.Error as exc:
            raise as_sqlalchemy_raises(connection, self.sql, params, exc) from exc

    def _shape(self, columns: Sequence[tuple[str, Any]]) -> tuple[Any, list[tuple[int, Any]]]:
        """The row type and each column's result processor, from the first answer's column
        names and the driver's type codes."""
        names = [name for name, _ in columns]
        processors = [(i, process) for i, ((_, type_code), type_) in enumerate(
            zip(columns, self.types, strict=True))
            if (process := type_._cached_result_processor(self.dialect, type_code))
            is not None]
        shape = self.shape = (_row_type(tuple(names))._make, processors)
        return shape


class SqliteSelect(RawSelect):
    """`RawSelect` on SQLite: run on the transaction's sqlite3 connection, with named
    parameters. Through SQLAlchemy a keyed read of a few rows costs ~4 times sqlite3's own
    time, and a page reads 11 times, a live quote 5."""

    def _run(self, connection: Connection, params: dict[str, Any]
             ) -> tuple[tuple[Any, list[tuple[int, Any]]], list[Any]]:
        driver: sqlite3.Connection = connection.connection.driver_connection  # type: ignore[assignment]
        try:
            cursor = driver.execute(self.sql, params)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(self.sql, params, exc, sqlite3.Error) from exc
        shape = self.shape or self._shape(
            [(column[0], None) for column in cursor.description or []])
        return shape, cursor.fetchall()


# SQLite's dialect with named parameters (:name), which sqlite3 takes from a dict.
_SQLITE_NAMED = sqlite.dialect(paramstyle="named")


def as_sqlalchemy_raises(connection: Connection, sql: str, params: Any, exc: psycopg.Error
                         ) -> StatementError:
    """The error of a statement run on the psycopg connection as SQLAlchemy raises it (an
    IntegrityError, an OperationalError…), the connection invalidated when it is lost."""
    driver = driver_of(connection)
    invalidated = connection.dialect.is_disconnect(exc, driver, None)  # type: ignore[arg-type]
    if invalidated:
        # As SQLAlchemy does with a lost connection: every connection pooled before it is
        # renewed at its next checkout (the server may be gone for all of them), then this
        # one is dropped.
        connection.engine.pool._invalidate(connection.connection, exc)
        connection.invalidate(exc)
    return DBAPIError.instance(sql, params, exc, psycopg.Error,
                               connection_invalidated=invalidated)


def _row_type(names: tuple[str, ...]) -> Any:
    """A named tuple of these columns, with a SQLAlchemy Row's `_mapping`."""

    class Row(namedtuple("Row", names)):  # type: ignore[misc]
        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(self._fields, self, strict=True))

    return Row


def keyed(table: Table, *columns: str, limit: int | None = 1) -> Select[Any]:
    """SELECT * FROM table WHERE each column = :column (LIMIT 1 unless told)."""
    query = select(table).where(*(table.c[name] == bindparam(name) for name in columns))
    return query if limit is None else query.limit(limit)


def _binder(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The type's bind processing (None: none) for the batch writes, which process every
    value in Python: a TypeDecorator's own `process_bind_param`, bound to the dialect, when
    its impl has none, saving the frame SQLAlchemy's processor wraps it in (~2% of the
    billing run's CPU)."""
    if (isinstance(column_type, TypeDecorator)
            and type(column_type).process_bind_param is not TypeDecorator.process_bind_param
            and column_type.impl_instance.bind_processor(dialect) is None):
        return partial(column_type.process_bind_param, dialect=dialect)
    return column_type.bind_processor(dialect)


def _instant(value: Any) -> str:
    """Dates and instants in JSON as PostgreSQL reads them back (ISO 8601, with offset)."""
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not written by a batch update")


# The rows of a batch update as one JSON document (see `Queries._update_rows`).
_encode_rows = compact_encoder(default=_instant)
# From this many rows on, `insert_all` copies them (PostgreSQL).
_COPY_FROM = 8
# Binary COPY sends an integer in its column's width, and psycopg's C dumper wraps one that
# does not fit (2**31 arrives as -2**31) where the server would refuse it: checked first.
_NARROW_INTEGERS = {"integer": 2**31, "smallint": 2**15}


class _CopyTypes(NamedTuple):
    oids: list[int]  # the type of each column, as the binary COPY declares it
    narrow: list[tuple[int, int, str]]  # (position, bound, name) of its int4 / int2 columns


# How a COPY of (table, columns) writes them; None: a column has no binary form psycopg
# knows, so the table is copied as text. See `_copy_types`.
_COPY_TYPES: dict[tuple[str, tuple[str, ...]], _CopyTypes | None] = {}


def _copy_types(table: Table, names: list[str], dialect: Dialect) -> _CopyTypes | None:
    """The types a binary COPY of these columns declares, or None to copy as text.
    In COPY's text format every value is written as text and parsed back by the server: a
    FatturaPA file (bytea, ~3.8 kB) as hex, escaped again for COPY, ~30 us of client CPU
    and more of the server's a file; in binary, the bytes as they are (~3 us), and an
    ordinary row costs the client ~0.8 us instead of ~3.3."""
    key = (table.name, tuple(names))
    if key not in _COPY_TYPES:
        oids, narrow = [], []
        for at, name in enumerate(names):
            declared = table.c[name].type.compile(dialect=dialect).partition("(")[0].lower()
            info = psycopg.postgres.types.get(declared)
            oids.append(None if info is None else info.oid)
            if declared in _NARROW_INTEGERS:
                narrow.append((at, _NARROW_INTEGERS[declared], name))
        _COPY_TYPES[key] = None if None in oids else _CopyTypes(
            [oid for oid in oids if oid is not None], narrow)
    return _COPY_TYPES[key]


def _fitting(table: Table, values: list[Any], narrow: list[tuple[int, int, str]]
             ) -> list[Any]:
    for at, bound, name in narrow:
        value = values[at]
        if value is not None and not -bound <= value < bound:
            raise ValueError(f"{table.name}.{name}: {value} does not fit its column")
    return values


class Queries:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    # -- writing ---------------------------------------------------------------------

    def upsert(self, table: Table) -> Any:
        """An INSERT that takes `.on_conflict_do_nothing()` / `.on_conflict_do_update()`."""
        return (postgresql.insert if self.postgres else sqlite.insert)(table)

    def insert_new(self, table: Table, values: dict[str, Any], what: str,
                   caught: bool = False) -> None:
        """Insert one row, or raise `Conflict` if any unique key is taken. ON CONFLICT DO
        NOTHING leaves the transaction usable (no failed statement, no savepoint needed).

        The values are execution parameters of one statement built once per table, not
        literals of a new statement: SQLAlchemy then reuses the compiled SQL instead of
        coercing and hashing every value of every row (5× faster on the renewal run).
        Held while the transaction holds a counter (`canone.db.held`), unless the caller
        catches its `Conflict` to go on (`caught`): a held write's failure ends the
        transaction, and is raised only when it is sent. Else, on PostgreSQL, run on the
        psycopg connection (`_written`)."""
        held = None if caught else held_of(self.connection)
        if held is not None:
            held.add(self._psycopg_sql(table, list(values)), self._row(table, values), _TAKEN,
                     what)
            return
        if self.postgres:
            sql = self._psycopg_sql(table, list(values), new=True)
            if self._written(sql, self._row(table, values)) == 0:
                raise Conflict(f"{what} already exists")
            return
        key = (self.connection.dialect.name, table.name)
        statement = _INSERT_NEW.get(key)
        if statement is None:
            statement = _INSERT_NEW[key] = self.upsert(table).on_conflict_do_nothing(
            ).returning(*table.primary_key.columns)
        if self.connection.execute(statement, values).first() is None:
            raise Conflict(f"{what} already exists")

    def inserted(self, insert: Any) -> bool:
        """Run an INSERT … ON CONFLICT DO NOTHING; whether it wrote the row. (RETURNING says
        so on both backends; an INSERT's rowcount is not reliable through SQLAlchemy.)"""
        key = insert.table.primary_key.columns
        statement = insert.on_conflict_do_nothing().returning(*key)
        return self.connection.execute(statement).first() is not None

    def insert_all(self, table: Table, rows: Sequence[dict[str, Any]], taken: str = ""
                   ) -> None:
        """Insert rows that all have the keys of the first. On PostgreSQL, more than a few
        go through COPY: one statement whatever their number, where an executemany sends
        (and the server parses, binds and runs) one INSERT per row. `taken`: what a taken
        key (any integrity error) is a `Conflict` of ("one of 3 payments"); else it is an
        IntegrityError. Held writes are raised when sent, and only this statement's error
        is this Conflict: a caller that catches it sends what is held itself."""
        if not rows:
            return
        held = held_of(self.connection)
        names = list(rows[0])
        if held is not None and (len(rows) < _COPY_FROM or not self.postgres):
            held.add(self._psycopg_sql(table, names),
                     [self._row(table, row, names) for row in rows],
                     _BATCH_TAKEN if taken else None, taken, many=True)
            return
        if self.postgres and len(rows) >= _COPY_FROM:
            self.send_held()  # (outside the `try`: their failures are their own)
        try:
            if self.postgres and len(rows) >= _COPY_FROM:
                self._copy(table, rows)
            else:
                self.connection.execute(table.insert(), list(rows))
        except IntegrityError as exc:
            if not taken:
                raise
            raise Conflict(f"{taken} already exists") from exc

    def _copy(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """COPY … FROM STDIN on the transaction's own psycopg connection; each value as
        its column's SQLAlchemy type makes it (JSON text, UTC instants), and a taken key
        an IntegrityError, as from an INSERT."""
        preparer = self.connection.dialect.identifier_preparer
        names = list(rows[0])
        listed = ", ".join(preparer.quote(name) for name in names)
        types = _copy_types(table, names, self.connection.dialect)
        binary = " (FORMAT BINARY)" if types else ""
        try:
            with driver_of(self.connection).cursor() as cursor, cursor.copy(
                    f"COPY {preparer.format_table(table)} ({listed}) FROM STDIN{binary}"
            ) as copy:
                narrow = [] if types is None else types.narrow
                if types is not None:
                    copy.set_types(types.oids)
                for row in rows:
                    copy.write_row(_fitting(table, self._row(table, row, names), narrow))
        except psycopg.IntegrityError as exc:
            raise IntegrityError(f"COPY {table.name}", None, exc) from exc

    def update_by_key(self, table: Table, key: str | tuple[str, ...], key_value: Any,
                      values: dict[str, Any], what: str) -> None:
        """`update` of the row whose column `key` is `key_value` (or whose columns are the
        values, for a key of several), with a statement built once per table. Held while
        the transaction holds a counter (`canone.db.held`)."""
        keys, key_values = ((key,), (key_value,)) if isinstance(key, str) else (key, key_value)
        held = held_of(self.connection)
        if held is not None:
            held.add(self._psycopg_sql(table, list(values), keys, held=True),
                     [*self._row(table, values), *key_values], _MISSING, what)
            return
        if self.postgres:  # on the psycopg connection (`_written`)
            if self._written(self._psycopg_sql(table, list(values), keys),
                             [*self._row(table, values), *key_values]) != 1:
                raise LookupError(f"{what} does not exist")
            return
        statement = _UPDATE_BY_KEY.get((table.name, keys))
        if statement is None:
            statement = _UPDATE_BY_KEY[table.name, keys] = update(table).where(
                *(table.c[name] == bindparam(f"saved_{name}") for name in keys))
        saved = {f"saved_{name}": value for name, value in zip(keys, key_values, strict=True)}
        if self.connection.execute(statement, {**values, **saved}).rowcount != 1:
            raise LookupError(f"{what} does not exist")

    def update(self, table: Table, where: ColumnElement[bool], values: dict[str, Any],
               what: str) -> None:
        """Update one existing row; a missing row is a programming error (LookupError).
        The new values are execution parameters (see `insert_new`)."""
        if self.connection.execute(update(table).where(where), values).rowcount != 1:
            raise LookupError(f"{what} does not exist")

    def update_many(self, table: Table, key: ColumnElement[Any],
                    changes: Sequence[tuple[str, dict[str, Any]]], what: str) -> None:
        """Update existing rows by key (on PostgreSQL in one statement, else one
        executemany); a missing row is a LookupError."""
        if not changes:
            return
        if self.postgres:
            changed = self._update_rows(table, key, changes)
        else:
            statement = update(table).where(key == bindparam("saved_key"))
            changed = self.connection.execute(
                statement, [{**values, "saved_key": k} for k, values in changes]).rowcount
        if changed != len(changes):
            raise LookupError(f"{len(changes) - changed} of the {what} do not exist")

    def _update_rows(self, table: Table, key: ColumnElement[Any],
                     changes: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """`update_many` on PostgreSQL: one UPDATE … FROM json_to_recordset(<the rows as one
        JSON parameter>), each value as its column's type makes it (as `_copy` does); the
        rows changed. An executemany (SQLAlchemy's or psycopg's) dumps, binds and runs a
        statement per row: ~13 us of client CPU a row against ~2 here, and the server plans
        and runs one statement. Rows go in key order, and a key given twice once, with its
        last values, as a statement per row would leave it."""
        dialect = self.connection.dialect
        names = list(changes[0][1])
        convert = [(f"c{i}", name, _binder(table.c[name].type, dialect))
                   for i, name in enumerate(names, start=1)]
        sql = _UPDATE_ROWS.get((table.name, str(key.name), *names))
        if sql is None:
            sql = _UPDATE_ROWS[table.name, str(key.name), *names] = _rows_update(
                dialect, table, str(key.name), names)
        last = dict(changes)
        self.send_held()
        records = [{"c0": k, **{column: v[name] if process is None else process(v[name])
                                for column, name, process in convert}}
                   for k, v in sorted(last.items())]
        with driver_of(self.connection).cursor() as cursor:
            cursor.execute(sql, [_encode_rows(records)])
            # A key given n times: n rows changed, as n statements would say.
            return int(cursor.rowcount) + len(changes) - len(last)

    # -- gapless counters ---------------------------------------------------------------

    def bump(self, *counters: tuple[Table, Any, int]) -> list[int]:
        """Each counter's new value, (table, key, step) bumped by its step, in this order:
        its row stays locked until the transaction ends, so concurrent writers take turns
        and a rollback gives the values back (no gap). On PostgreSQL all in one round trip,
        with the writes held so far (`canone.db.held`)."""
        bumps = [(self._bump_of(table), {"key": key, "step": step})
                 for table, key, step in counters]
        if self.postgres:
            held = held_of(self.connection) or Held(self.connection)
            return [int(last) for last in held.send(then=[
                (sql, values) for (_, sql), values in bumps])]
        return [int(self.connection.execute(statement, values).scalar_one())
                for (statement, _), values in bumps]

    def _bump_of(self, table: Table) -> tuple[Any, str]:
        dialect = self.connection.dialect
        found = _BUMPS.get((dialect.name, table.name))
        if found is None:
            key = table.primary_key.columns[0]
            statement = (self.upsert(table)
                         .values({key.name: bindparam("key"), "last": bindparam("step")})
                         .on_conflict_do_update(index_elements=[key],
                                                set_={"last": table.c.last + bindparam("step")})
                         .returning(table.c.last))
            found = _BUMPS[dialect.name, table.name] = (
                statement, str(statement.compile(dialect=dialect)))
        return found

    # -- on the psycopg connection itself (PostgreSQL) -------------------------------

    def hold(self) -> None:
        """Hold this transaction's writes from now on, to send them together (see
        `canone.db.held`); PostgreSQL only (SQLite has no round trips to save)."""
        if self.postgres and held_of(self.connection) is None:
            self.connection.info[HELD] = Held(self.connection)

    def send_held(self, commit: bool = False) -> None:
        """Send what is held now (a caller that catches what a write raises), and COMMIT
        with it when told (the transaction's end)."""
        held = held_of(self.connection)
        if held is not None:
            held.send(commit=commit)

    def release_held(self) -> None:
        """At the transaction's end: hold nothing on the pooled connection. A connection
        lost (invalidated) has no `info` to read, and gets a new one when it reconnects."""
        if self.postgres and not self.connection.invalidated:
            self.connection.info.pop(HELD, None)

    def _row(self, table: Table, values: dict[str, Any], names: Sequence[str] | None = None
             ) -> list[Any]:
        """`values` as SQLAlchemy binds them, in the order of `names` (default: theirs)."""
        names = list(values) if names is None else names
        dialect = self.connection.dialect
        key = (dialect.name, table.name, tuple(names))
        binders = _BINDERS.get(key)
        if binders is None:
            binders = _BINDERS[key] = [(name, _binder(table.c[name].type, dialect))
                                       for name in names]
        return [values[name] if process is None else process(values[name])
                for name, process in binders]

    def _psycopg_sql(self, table: Table, names: list[str], keys: Sequence[str] = (),
                     held: bool = False, new: bool = False) -> str:
        """The SQL for psycopg of the INSERT of `names` (`new`: ON CONFLICT DO NOTHING
        RETURNING 1), or with `keys` of the UPDATE of `names` of the row with those keys;
        a `held` UPDATE divides by zero when there is no such row, so that the statement
        fails and nothing after it runs. Made once per table and columns."""
        cache_key = (table.name, tuple(names), tuple(keys), held, new)
        sql = _PSYCOPG_SQL.get(cache_key)
        if sql is not None:
            return sql
        preparer = self.connection.dialect.identifier_preparer
        target, quote = preparer.format_table(table), preparer.quote
        if keys:
            assigned = ", ".join(f"{quote(name)} = %s" for name in names)
            where = " AND ".join(f"{quote(name)} = %s" for name in keys)
            sql = f"UPDATE {target} SET {assigned} WHERE {where}"
            if held:
                sql = f"WITH changed AS ({sql} RETURNING 1) SELECT 1 / count(*) FROM changed"
        else:
            listed = ", ".join(quote(name) for name in names)
            sql = f"INSERT INTO {target} ({listed}) VALUES ({', '.join(['%s'] * len(names))})"
            if new:
                sql += " ON CONFLICT DO NOTHING RETURNING 1"
        _PSYCOPG_SQL[cache_key] = sql
        return sql

    def _written(self, sql: str, params: list[Any]) -> int:
        """Run a write on the psycopg connection (PostgreSQL), after what is held; the rows
        it wrote. SQLAlchemy's execution context and result cost as much CPU again as
        psycopg's own, for nothing a write needs."""
        self.send_held()
        try:
            with driver_of(self.connection).cursor() as cursor:
                cursor.execute(sql, params)
                return int(cursor.rowcount)
        except psycopg.Error as exc:
            raise as_sqlalchemy_raises(self.connection, sql, params, exc) from exc

    # -- reading ---------------------------------------------------------------------

    def among(self, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
        """`column IN (values)`; on PostgreSQL `column = ANY(:values)`, one array parameter
        whatever their number. An IN list is one parameter per value, and psycopg parses a
        query of hundreds of them anew at every execution (it caches short queries only):
        ~9 ms of Python for a batch's 500 ids."""
        if self.postgres:
            return column == any_(bindparam(None, list(values),
                                            type_=postgresql.ARRAY(column.type)))
        return column.in_(list(values))

    def locked(self, query: Select[Any], lock: bool) -> Select[Any]:
        """SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises."""
        return query.with_for_update() if lock and self.postgres else query

    def claimed(self, query: Select[Any]) -> Select[Any]:
        """Lock the rows, skipping those another transaction holds (PostgreSQL)."""
        return query.with_for_update(skip_locked=True) if self.postgres else query

    def prepared(self, query: Prepared, values: dict[str, Any], lock: bool = False
                 ) -> Rows:
        """Run a prepared SELECT with these values on the driver's connection, FOR UPDATE
        when `lock` (PostgreSQL, there after what is held)."""
        if not self.postgres:
            return query.on_sqlite().rows(self.connection, values)
        self.send_held()
        return query.on_postgres(lock, self.connection.dialect).rows(self.connection, values)

    def first(self, query: Select[Any]) -> Row[Any] | None:
        return self.connection.execute(query.limit(1)).first()

    def all(self, query: Select[Any]) -> Sequence[Row[Any]]:
        return self.connection.execute(query).all()


def _rows_update(dialect: Dialect, table: Table, key: str, names: list[str]) -> str:
    """The UPDATE of `Queries._update_rows`: each row a JSON object of c0 (the key), c1…
    (the values of `names`), so no column name is escaped in JSON."""
    quote = dialect.identifier_preparer.quote
    typed = ", ".join(f"c{i} {table.c[name].type.compile(dialect)}"
                      for i, name in enumerate([key, *names]))
    assigned = ", ".join(f"{quote(name)} = v.c{i}" for i, name in enumerate(names, start=1))
    target = dialect.identifier_preparer.format_table(table)
    return (f"UPDATE {target} SET {assigned} FROM json_to_recordset(%s::json) "
            f"AS v({typed}) WHERE {target}.{quote(key)} = v.c0")


def page(table: Table, order: Any, after: str | None, newest_first: bool,
         ) -> tuple[ColumnElement[bool], tuple[Any, Any]]:
    """Keyset pagination over (order, id): the filter for rows past the row `after` (an id)
    and the ORDER BY clauses."""
    key = table.c.id
    by = (order.desc(), key.desc()) if newest_first else (order, key)
    if after is None:
        return true(), by
    at = select(order).where(key == after).scalar_subquery()
    if newest_first:
        return or_(order < at, and_(order == at, key < after)), by
    return or_(order > at, and_(order == at, key > after)), by
