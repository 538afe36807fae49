"""The adapter's tests run on the in-memory store of the services tests as well: they are
the port's contract, and so they show that the fake keeps it as SQLite and PostgreSQL do
(keys, orders, rollback, gapless numbers, instants in UTC). A test of SQL itself (the
schema, a connection) is marked `sql`."""

from __future__ import annotations

import pytest

from canone.db.database import Database
from dbfixtures import WITH_MEMORY, on_backend


@pytest.fixture(params=WITH_MEMORY)
def database(request: pytest.FixtureRequest) -> Database:
    return on_backend(request)
