"""In test mode the clock is kept in the database (`StoredTestClock`). Read inside a
transaction, it is read on that transaction's connection: a preview or a confirmation
needs one pooled connection, not two, so that many at once cannot exhaust the pool, each
waiting for the connection it holds (issue: pool exhaustion in test mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

import stored
from canone.db.clock import StoredTestClock
from canone.db.database import Database
from canone.services import quotes
from canone.services.context import Services

from .conftest import admin_of, at, config, make_services, sign_up

pytestmark = pytest.mark.postgres


@pytest.fixture
def one_connection(postgres_database: Database) -> Iterator[Database]:
    """The same PostgreSQL database through a pool of exactly one connection, which gives
    up after a second when asked for another."""
    database = Database(postgres_database.url)
    database.engine.dispose()
    database.engine = create_engine(database.engine.url, pool_size=1, max_overflow=0,
                                    pool_timeout=1, connect_args={"options": "-c timezone=UTC"})
    yield database
    database.dispose()


def test_preview_and_confirm_with_a_one_connection_pool(
        postgres_database: Database, one_connection: Database, clock, tmp_path: Path) -> None:
    setup = make_services(postgres_database, clock, tmp_path / "sandbox.db")
    signed = sign_up(setup)
    with postgres_database.transaction() as store:
        store.set_clock_override(at(2026, 4, 16))
    svc: Services = make_services(one_connection, StoredTestClock(one_connection, clock),
                                  tmp_path / "sandbox.db")
    ada = admin_of(svc, signed.account.id)

    quote = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise"))
    done = quotes.confirm(svc, ada, signed.account.id, quote.token)

    assert quote.change.due_now == 48  # day 16 of 30: the stored clock's day
    assert done.invoice is not None and done.invoice.total == 4800
    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    with one_connection.transaction() as store:  # the clock read on this very connection
        assert svc.now() == at(2026, 4, 16)
        assert store.clock_override() == at(2026, 4, 16)
