"""The PostgreSQL connection pool hands out no connection the server has closed, without a
round trip to ask (no pre-ping)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from canone.db.database import Database

pytestmark = pytest.mark.postgres


def _terminate_other_backends(database: Database) -> None:
    url = database.engine.url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        deadline = time.monotonic() + 10
        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND pid <> pg_backend_pid()"
                            ).fetchone() != (0,):
            assert time.monotonic() < deadline, "the backends did not end"
            time.sleep(0.02)


def test_connections_closed_by_the_server_are_replaced_at_checkout(
        postgres_database: Database) -> None:
    database = postgres_database
    with database.transaction() as one, database.read() as two:  # two pooled connections
        assert one.accounts.get("acc_none") is None and two.accounts.get("acc_none") is None
    _terminate_other_backends(database)  # as a server restart would

    for _ in range(3):
        with database.transaction() as store:
            assert store.accounts.get("acc_none") is None
        with database.read() as store:
            assert store.accounts.get("acc_none") is None


def _backend_pids(database: Database, count: int) -> set[int]:
    """The server processes behind `count` connections checked out at once."""
    connections = [database.engine.connect() for _ in range(count)]
    try:
        return {int(c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
                for c in connections}
    finally:
        for c in connections:
            c.close()


@pytest.mark.parametrize("opened", [Database.transaction, Database.read])
def test_a_connection_lost_under_a_read_renews_the_whole_pool(
        postgres_database: Database, opened: Callable[[Database], Any]) -> None:
    # A read sent on psycopg's own connection (`RawSelect`) that finds its connection gone
    # does what SQLAlchemy does: the transaction (or the read's statement, each on its own)
    # fails, and every connection pooled before is renewed, since the server may have
    # dropped them all without a word.
    database = postgres_database
    before = _backend_pids(database, 2)
    with pytest.raises(OperationalError) as lost, opened(database) as store:
        store.accounts.connection.connection.driver_connection.pgconn.finish()
        store.accounts.get("acc_none")
    assert lost.value.connection_invalidated
    assert _backend_pids(database, 2).isdisjoint(before)
    with database.read() as store:
        assert store.accounts.get("acc_none") is None


def test_a_read_sends_each_statement_on_its_own_and_leaves_transactions_alone(
        postgres_database: Database) -> None:
    # One connection pooled, so that the transaction after the read gets the read's.
    database = Database(postgres_database.url)
    try:
        with database.read() as store:
            assert store.accounts.get("acc_none") is None
            driver = store.accounts.connection.connection.driver_connection
            # No BEGIN before the statement, no ROLLBACK after: nothing left open.
            assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with database.transaction() as store:
            assert store.accounts.connection.connection.driver_connection is driver
            assert store.accounts.get("acc_none") is None
            assert driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            assert driver.autocommit is False
    finally:
        database.dispose()

