"""The test clock kept in the database, shared by every process that reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canone.db.clock import StoredTestClock
from canone.db.database import Database
from canone.services.clock import SystemClock

from .samples import T0, later


class Fixed:
    def now(self) -> datetime:
        return T0


@pytest.mark.sql("StoredTestClock reads the override on the SQL connection a transaction holds")
def test_the_stored_clock_falls_back_until_an_override_is_set(database: Database) -> None:
    clock = StoredTestClock(database, Fixed())
    assert clock.now() == T0
    with database.transaction() as store:
        store.set_clock_override(later(90))
    assert clock.now() == later(90)
    another_process = Database(database.url)
    try:
        assert StoredTestClock(another_process, Fixed()).now() == later(90)
    finally:
        another_process.dispose()


def test_the_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)
