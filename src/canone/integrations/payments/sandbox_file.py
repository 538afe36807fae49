"""The sandbox card network's SQLite file: its tables, and one connection per thread.

Each thread keeps one connection to the file (a process forked from another opens its
own); every call is one transaction on it, BEGIN IMMEDIATE, so the calls of all threads and
processes take turns, and a charge is committed before its answer is given. WAL with
synchronous=NORMAL, no fsync per commit: a committed charge survives the crash of any
process (the WAL is written before COMMIT returns), though not a power cut of the machine.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (
    token      TEXT PRIMARY KEY,
    brand      TEXT NOT NULL,
    last4      TEXT NOT NULL,
    exp_month  INTEGER NOT NULL,
    exp_year   INTEGER NOT NULL,
    behaviour  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
    idempotency_key  TEXT PRIMARY KEY,
    card_token       TEXT NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    status           TEXT NOT NULL,
    charge_id        TEXT,
    message          TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_by_card ON charges (card_token);
CREATE TABLE IF NOT EXISTS intents (
    id               TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    card_token       TEXT NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    canceled         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS refunds (
    id               TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    intent_id        TEXT NOT NULL,
    amount_minor     INTEGER NOT NULL
);
"""


# Connections a forked process inherited: never used there (SQLite forbids it), and never
# closed there either (closing would touch the parent's WAL); kept so nothing closes them.
_INHERITED: list[sqlite3.Connection] = []


class SandboxFile:
    """The network's file at `path`, shared by every process that opens it."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path == ":memory:" or not self.path:
            raise ValueError(
                "the sandbox network needs a file: every process and thread opens its own"
                " connection to it"
            )
        # One lock per file object serialises this process's threads (without spinning in
        # SQLite's busy handler); BEGIN IMMEDIATE (with the busy timeout) serialises
        # processes.
        self._lock = threading.Lock()
        self._local = threading.local()
        with self._lock:
            self._connection().executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on its first call (in this process)."""
        local = self._local
        db: sqlite3.Connection | None = getattr(local, "db", None)
        if db is None or local.pid != os.getpid():
            if db is not None:
                _INHERITED.append(db)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer; persists
            db.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit (see above)
            local.db, local.pid = db, os.getpid()
        return db

    def close(self) -> None:
        """Close this thread's connection (the next call opens another)."""
        db = getattr(self._local, "db", None)
        if db is not None and self._local.pid == os.getpid():
            db.close()
        self._local.db = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # the connection stays usable for the next call
                    db.execute("ROLLBACK")
                raise
