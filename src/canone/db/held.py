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

from collections.abc import Sequence
from typing import Any, NoReturn

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

# The key of the transaction's `Held` in its connection's `info`.
HELD = "canone_held"

# What a held statement's failure means: the server's error, the exception canone raises
# for it and that exception's message, with "{}" for what the statement wrote. Made only
# when the statement fails: most never do.
Failure = tuple[type[psycopg.Error], type[Exception], str]
# (SQL, one parameter list or several for an executemany, what its failure means, what it
# wrote)
Write = tuple[str, Any, bool, Failure | None, str]
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
        self.writes: list[Write] = []

    def add(self, sql: str, params: list[Any], failure: Failure | None = None, what: str = "",
            many: bool = False) -> None:
        self.writes.append((sql, params, many, failure, what))

    def send(self, then: Sequence[tuple[str, Any]] = (), commit: bool = False
             ) -> list[Any]:
        """Send what is held, then the statements `then` (counters' bumps) when given, or
        the COMMIT, in one round trip; the first value of each of `then`'s first rows (a
        counter's new value). Every held statement fails on the server when it goes wrong
        (a taken key, no row to update), so nothing after it runs, the COMMIT included, and
        the error it raises is the one a write sent at once raises."""
        writes, self.writes = self.writes, []
        writes.extend((sql, params, False, None, "") for sql, params in then)
        if not writes:
            return []
        sent: list[tuple[psycopg.Cursor[Any], Write]] = []
        try:
            with self.driver.pipeline():
                for write in writes:
                    cursor = self.driver.cursor()
                    if write[2]:
                        cursor.executemany(write[0], write[1])
                    else:
                        cursor.execute(write[0], write[1])
                    sent.append((cursor, write))
                if commit:  # (not driver.commit(): it waits for its own round trip)
                    self.driver.cursor().execute("COMMIT")
        except psycopg.Error as exc:
            _raise_as_sent_at_once(sent, exc)
        values = [_first(cursor) for cursor, _ in sent[len(sent) - len(then):]] if then else []
        for cursor, _ in sent:
            cursor.close()
        return values


def _first(cursor: psycopg.Cursor[Any]) -> Any:
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("a counter's bump returned no row")
    return row[0]


def _raise_as_sent_at_once(sent: list[tuple[psycopg.Cursor[Any], Write]], exc: psycopg.Error
                           ) -> NoReturn:
    failed = next((write for cursor, write in sent if not _done(cursor, write)), None)
    failure = failed[3] if failed is not None else None
    if failed is not None and failure is not None and isinstance(exc, failure[0]):
        raise failure[1](failure[2].format(failed[4])) from exc
    if isinstance(exc, psycopg.IntegrityError):
        raise IntegrityError("held writes", None, exc) from exc
    raise exc


def _done(cursor: psycopg.Cursor[Any], write: Write) -> bool:
    """Whether the statement ran to its end (those after a failure are skipped): an
    executemany keeps no result, but counts the rows it wrote, one for each of its rows
    (held executemanys are INSERTs) when none failed."""
    if write[2]:
        return cursor.rowcount == len(write[1])
    return cursor.pgresult is not None and cursor.pgresult.status in _DONE


def send_held(conn: Connection, *_: Any) -> None:
    """`before_cursor_execute` of PostgreSQL engines: what a statement sent through
    SQLAlchemy may read was written first."""
    held = held_of(conn)
    if held is not None and held.writes:
        held.send()
