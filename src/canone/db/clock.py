"""The test clock whose time is kept in the database (so the CLI, the web app and workers in
other processes all see the same `canone clock advance`); the other clocks are in
services/clock.py."""

from __future__ import annotations

from datetime import datetime

from canone.db.database import Database
from canone.services.ports import Clock


class StoredTestClock:
    """The stored override when one is set, else the `fallback` clock's time."""

    def __init__(self, database: Database, fallback: Clock) -> None:
        self.database = database
        self.fallback = fallback

    def now(self) -> datetime:
        # Asked inside a transaction, read on its connection: a second checkout per reading
        # could exhaust the pool under load, each request waiting for the one it holds.
        open_store = self.database.open_store()
        if open_store is not None:
            override = open_store.clock_override()
        else:
            with self.database.read() as store:
                override = store.clock_override()
        return self.fallback.now() if override is None else override
