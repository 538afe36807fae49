"""What runs on the driver's connection itself, not through SQLAlchemy: the prepared reads
(`RawSelect` on psycopg, `SqliteSelect` on sqlite3) read what SQLAlchemy reads (the same
rows, each value as its column's type makes it: UTC instants, JSON documents; by index, by
name and `_mapping`), and on PostgreSQL the single-row writes keep their rules (a taken key
a `Conflict`, a missing row a `LookupError`, both leaving the transaction usable); an error
is SQLAlchemy's."""

from __future__ import annotations

import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, MetaData, String, Table, bindparam, func, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from canone.db.accounts import _ACCOUNT, _USERS_OF
from canone.db.database import Database
from canone.db.invoices import _SUBSCRIPTION_OF
from canone.db.payments import _BALANCE_OF, _INTENT
from canone.db.queries import Prepared
from canone.db.tables.billing import ledger_entries, payment_intents
from canone.services.errors import Conflict
from canone.services.records import LedgerEntry, PaymentIntent
from dbfixtures import BACKENDS, on_backend

from .samples import T0, account, subscription, user

ROME = ZoneInfo("Europe/Rome")

READS: list[tuple[Prepared, dict[str, Any]]] = [
    (_ACCOUNT, {"id": "acc_1"}), (_USERS_OF, {"account_id": "acc_1"}),
    (_SUBSCRIPTION_OF, {"account_id": "acc_1"}), (_INTENT, {"key": "chg_1"}),
    (_BALANCE_OF, {"account_id": "acc_1"}), (_ACCOUNT, {"id": "acc_none"})]


@pytest.fixture(params=BACKENDS)
def sql_database(request: pytest.FixtureRequest) -> Database:
    return on_backend(request)


def test_a_prepared_read_is_what_sqlalchemy_reads(sql_database: Database) -> None:
    with sql_database.transaction() as store:
        store.accounts.add(account())
        store.people.add_user(user(1))
        store.people.add_user(user(2))
        store.subscriptions.add(subscription())
        store.payments.add_intent(PaymentIntent("chg_1", "acc_1", "change", 100, "EUR", "tok",
                                                {"n": [1, "ü"]}, "pending", T0))
        store.ledger.add(LedgerEntry("led_1", "acc_1", -250, "EUR", "Applied", None, T0))
    with sql_database.transaction() as store:
        for query, values in READS:
            for lock in (False, True) if query is not _BALANCE_OF else (False,):
                raw = store.prepared(query, values, lock)
                through = store.connection.execute(
                    query.for_update if lock else query.plain, values).all()
                assert raw == through
                assert [r._mapping for r in raw] == [dict(r._mapping) for r in through]
        row = store.prepared(_INTENT, {"key": "chg_1"}).first()
        assert (row.payload, row.created_at, row.created_at.tzinfo) == (
            {"n": [1, "ü"]}, T0, T0.tzinfo)
        assert store.prepared(_BALANCE_OF, {"account_id": "acc_1"}).scalar_one() == -250
        assert store.prepared(_ACCOUNT, {"id": "acc_none"}).first() is None


@pytest.mark.postgres
def test_a_prepared_read_that_fails_raises_as_sqlalchemy_does(postgres_database: Database
                                                              ) -> None:
    with pytest.raises(DataError), postgres_database.transaction() as store:
        store.prepared(_SUBSCRIPTION_OF, {"account_id": "acc\x00"})


def test_a_prepared_read_that_fails_on_sqlite_raises_as_sqlalchemy_does(
        sqlite_database: Database) -> None:
    missing = Table("no_such_table", MetaData(), Column("id", String, primary_key=True))
    query = Prepared(select(missing).where(missing.c.id == bindparam("id")))
    with (pytest.raises(OperationalError, match="no such table: no_such_table"),
          sqlite_database.read() as store):
        store.prepared(query, {"id": "x"})


@pytest.mark.postgres
def test_a_single_row_write_keeps_its_rules(postgres_database: Database) -> None:
    with postgres_database.transaction() as store:
        store.accounts.add(account())
        with pytest.raises(Conflict, match=r"^account acc_1 already exists$"):
            store.accounts.add(account(name="Again"))
        with pytest.raises(LookupError, match="subscription sub_1 does not exist"):
            store.subscriptions.save(subscription())
        store.subscriptions.add(subscription())
        store.subscriptions.save(subscription(version=7))
    with postgres_database.read() as store:
        assert store.accounts.get("acc_1") == account()
        found = store.subscriptions.of_account("acc_1")
        assert found is not None and found.version == 7
    with pytest.raises(IntegrityError), postgres_database.transaction() as store:
        store.subscriptions.add(subscription(2, account_id="acc_none"))


def test_a_prepared_read_converts_its_constants_as_sqlalchemy_does(
        sql_database: Database) -> None:
    """A constant in a prepared read goes through its column type's conversion once: a JSON
    document as JSONText writes it, an instant as UTCDateTime does."""
    intents = payment_intents.c
    query = Prepared(select(intents.key).where(
        intents.payload == {"n": [1, "ü"]}, intents.created_at == T0.astimezone(ROME),
        intents.key == bindparam("key")))
    with sql_database.transaction() as store:
        store.accounts.add(account())
        store.payments.add_intent(PaymentIntent("chg_1", "acc_1", "change", 100, "EUR", "tok",
                                                {"n": [1, "ü"]}, "pending", T0))
    with sql_database.transaction() as store:
        assert list(store.prepared(query, {"key": "chg_1"})) == [("chg_1",)]
        assert store.connection.execute(query.plain, {"key": "chg_1"}).all() == [("chg_1",)]


def test_a_read_with_binds_rendered_at_execution_is_refused(sql_database: Database) -> None:
    query = Prepared(select(payment_intents.c.key).where(
        payment_intents.c.key.in_(["chg_1", "chg_2"])))
    with sql_database.transaction() as store, pytest.raises(
            ValueError, match=r"^RawSelect cannot run .*an in_\(\) list"):
        store.prepared(query, {})


def test_a_read_on_sqlite_is_one_snapshot_begun_and_ended_on_sqlite3(
        sqlite_database: Database) -> None:
    """Its prepared reads (on sqlite3) and a statement through SQLAlchemy (which begins a
    transaction of its own) see the same snapshot: not a write committed meanwhile; and the
    connection goes back to the pool with no transaction open."""
    with sqlite_database.transaction() as store:
        store.accounts.add(account())
    with sqlite_database.read() as store:
        assert store.accounts.get("acc_1") == account()
        # Another request's (a thread of its own: a transaction of this one's would renew
        # the snapshot, `test_sql_shared_reads`), on another pooled connection.
        meanwhile = threading.Thread(target=_apply_credit, args=(sqlite_database,))
        meanwhile.start()
        meanwhile.join()
        assert store.ledger.balance_of("acc_1") == 0
        assert store.connection.execute(select(func.count()).select_from(ledger_entries)
                                        ).scalar_one() == 0
        driver = store.connection.connection.driver_connection
    assert driver is not None and not driver.in_transaction
    with sqlite_database.read() as store:
        assert store.ledger.balance_of("acc_1") == -250


def _apply_credit(database: Database) -> None:
    with database.transaction() as store:
        store.ledger.add(LedgerEntry("led_1", "acc_1", -250, "EUR", "Applied", None, T0))
