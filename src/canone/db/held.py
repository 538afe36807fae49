"""Writes held back while a PostgreSQL transaction holds a gapless counter's row.

A transaction that took an invoice or credit note number keeps that year's counter row
locked until it commits, and every concurrent purchase waits for it: each round trip from
the number to the commit is time the whole series stands still. So from the number on, the
writes of `Queries` (which need nothing back) are held here and sent
together in one pipeline (psycopg pipeline mode: one round trip, statements in order) when
the transaction next needs an answer from the server: a read, a COPY, another counter, or
its commit, which goes with them. The same rows are written in the same order in the same
transaction (a rollback still gives the number back); only the round trips change.

Only writes whose failure ends the transaction are held: a taken key is a `Conflict` and a
missing row a `LookupError` as ever, raised when they are sent, and the transaction is
rolled back. A caller that catches one to go on (`add_many`) sends what is held inside
its `try`.
"""

from __future__ import annotations

from typing import Any, NoReturn

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

# The key of the transaction's `Held` in its connection's `info`.
HELD = "canone_held"

# The server's error of a held statement that went wrong, and what canone raises for it.
Failure = tuple[type[psycopg.Error], Exception]
_DONE = (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK)


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
        # (SQL, one parameter list or several for an executemany, what its failure means)
        self.writes: list[tuple[str, list[Any], bool, Failure | None]] = []

    def add(self, sql: str, params: list[Any], failure: Failure | None = None,
            many: bool = False) -> None:
        self.writes.append((sql, params, many, failure))

    def send(self, then: tuple[str, list[Any]] | None = None, commit: bool = False) -> Any:
        """Send what is held, with `then` last when given, or the COMMIT, in one round
        trip; `then`'s first row (a counter's new value). Every held statement fails on
        the server when it goes wrong (a taken key, no row to update), so nothing after it
        runs, the COMMIT included, and the error it raises is the one a write sent at once
        raises."""
        writes, self.writes = self.writes, []
        if then is not None:
            writes.append((then[0], then[1], False, None))
        if not writes:
            return None
        sent: list[tuple[psycopg.Cursor[Any], bool, Failure | None]] = []
        try:
            with self.driver.pipeline():
                for sql, params, many, failure in writes:
                    cursor = self.driver.cursor()
                    if many:
                        cursor.executemany(sql, params)
                    else:
                        cursor.execute(sql, params)
                    sent.append((cursor, many, failure))
                if commit:  # (not driver.commit(): it waits for its own round trip)
                    self.driver.cursor().execute("COMMIT")
        except psycopg.Error as exc:
            _raise_as_sent_at_once(sent, exc)
        last = sent[-1][0].fetchone() if then is not None else None
        for cursor, *_ in sent:
            cursor.close()
        return last[0] if last is not None else None


def _raise_as_sent_at_once(sent: list[tuple[psycopg.Cursor[Any], bool, Failure | None]],
                           exc: psycopg.Error) -> NoReturn:
    failed = next((failure for cursor, many, failure in sent if not _done(cursor, many)),
                  None)
    if failed is not None and isinstance(exc, failed[0]):
        raise failed[1] from exc
    if isinstance(exc, psycopg.IntegrityError):
        raise IntegrityError("held writes", None, exc) from exc
    raise exc


def _done(cursor: psycopg.Cursor[Any], many: bool) -> bool:
    """Whether the statement ran (those after a failure are skipped): an executemany keeps
    no result, but counts the rows it wrote."""
    if many:
        return cursor.rowcount > 0
    return cursor.pgresult is not None and cursor.pgresult.status in _DONE


def send_held(conn: Connection, *_: Any) -> None:
    """`before_cursor_execute` of PostgreSQL engines: what a statement sent through
    SQLAlchemy may read was written first."""
    held = held_of(conn)
    if held is not None and held.writes:
        held.send()
