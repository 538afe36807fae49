"""Writes held back while a PostgreSQL transaction holds a gapless counter's row.

A transaction that took an invoice or credit note number keeps that year's counter row
locked until it commits, and every concurrent purchase waits for it: each round trip from
the number to the commit is time the whole series stands still. So from the number on, the
writes of `Queries` (which need nothing back but a row count) are held here and sent
together in one pipeline (psycopg pipeline mode: one round trip, statements in order) when
the transaction next needs an answer from the server: a read, a COPY, another counter, or
its commit. Nothing changes but the round trips: the same statements, the same values,
the same order, in the same transaction (a rollback still gives the number back).

Only writes whose failure ends the transaction are held (a taken key is a `Conflict` or a
missing row a `LookupError`, raised when they are sent): a caller that catches one to go
on (`add_many`) sends what is held inside its `try`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import Connection, Table
from sqlalchemy.exc import IntegrityError

# The key of the transaction's `Held` in its connection's `info`.
HELD = "canone_held"

Check = Callable[[int], None]  # given the statement's row count; raises if it is wrong
_Convert = list[tuple[str, Callable[[Any], Any] | None]]
COMMAND_OK = ExecStatus.COMMAND_OK
_CONVERTERS: dict[tuple[str, str, tuple[str, ...]], _Convert] = {}


def converters(connection: Connection, table: Table, names: Sequence[str]) -> _Convert:
    """Each column's bind processor (JSON text, …), as SQLAlchemy would apply it: for the
    statements canone sends on the psycopg connection itself (held writes, COPY, the
    batch updates)."""
    dialect = connection.dialect
    key = (dialect.name, table.name, tuple(names))
    found = _CONVERTERS.get(key)
    if found is None:
        found = _CONVERTERS[key] = [(name, table.c[name].type.bind_processor(dialect))
                                    for name in names]
    return found


def driver_of(connection: Connection) -> psycopg.Connection[Any]:
    driver = connection.connection.driver_connection
    if driver is None:  # a connection SQLAlchemy has already given back
        raise RuntimeError("a statement on a closed database connection")
    return driver  # type: ignore[no-any-return]


def held_of(connection: Connection) -> Held | None:
    held: Held | None = connection.info.get(HELD)
    return held


class Held:
    def __init__(self, connection: Connection) -> None:
        self.driver = driver_of(connection)
        # (SQL, one parameter list or several for an executemany, the check of its count)
        self.writes: list[tuple[str, list[Any], bool, Check | None]] = []

    def add(self, sql: str, params: list[Any], check: Check | None = None,
            many: bool = False) -> None:
        self.writes.append((sql, params, many, check))

    def send(self, then: tuple[str, list[Any]] | None = None) -> Any:
        """Send what is held, with `then` last when given, in one round trip; `then`'s
        first row (a counter's new value)."""
        writes, self.writes = self.writes, []
        if then is not None:
            writes.append((then[0], then[1], False, None))
        if not writes:
            return None
        sent: list[tuple[psycopg.Cursor[Any], Check | None]] = []
        try:
            with self.driver.pipeline():
                for sql, params, many, check in writes:
                    cursor = self.driver.cursor()
                    if many:
                        cursor.executemany(sql, params)
                    else:
                        cursor.execute(sql, params)
                    sent.append((cursor, check))
        except psycopg.IntegrityError as exc:
            # A write skipped by its taken key fails the next (its rows): say the first.
            _check(sent)
            raise IntegrityError("held writes", None, exc) from exc
        _check(sent)
        last = sent[-1][0].fetchone() if then is not None else None
        for cursor, _ in sent:
            cursor.close()
        return last[0] if last is not None else None


def _check(sent: list[tuple[psycopg.Cursor[Any], Check | None]]) -> None:
    """Each statement's check, in order, of those that ran (not those after a failure)."""
    for cursor, check in sent:
        result = cursor.pgresult
        if check is not None and result is not None and result.status == COMMAND_OK:
            check(cursor.rowcount)


def send_held(conn: Connection, *_: Any) -> None:
    """`before_cursor_execute` of PostgreSQL engines: what a statement sent through
    SQLAlchemy may read was written first."""
    held = held_of(conn)
    if held is not None and held.writes:
        held.send()
