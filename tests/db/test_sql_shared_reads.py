"""A read inside a read shares it (one connection, on SQLite one snapshot), and a
transaction committed inside a read is seen by what the read reads after it."""

from __future__ import annotations

import threading

import pytest

from canone.db.database import Database

from .samples import account

pytestmark = pytest.mark.sql("how the SQL database opens reads and transactions")


def test_a_read_inside_a_read_is_the_same_read(database: Database) -> None:
    with database.read() as outer:
        with database.read() as inner:
            assert inner is outer
            assert database.open_store() is outer
        assert outer.accounts.get("acc_1") is None  # still open after the inner one ended
        assert database.open_store() is outer
    assert database.open_store() is None
    with database.read() as later:
        assert later is not outer


def test_what_a_transaction_inside_a_read_commits_is_read_after_it(database: Database
                                                                    ) -> None:
    # As a live quote does when VIES is asked again: the sign-in's read stays open around
    # the transaction that stores the answer, and the quote then reads the stored answer.
    with database.read() as outer:
        assert outer.accounts.get("acc_1") is None  # a snapshot is taken (SQLite)
        with database.transaction() as store:
            store.accounts.add(account())
            assert database.open_store() is store
        assert database.open_store() is outer
        with database.read() as inner:
            assert inner is outer
            found = inner.accounts.get("acc_1")
    assert found is not None and found.id == "acc_1"


def test_a_transaction_that_fails_inside_a_read_leaves_the_read_as_it_was(
        database: Database) -> None:
    with database.read() as outer:
        assert outer.accounts.get("acc_1") is None
        try:
            with database.transaction() as store:
                store.accounts.add(account())
                raise RuntimeError("given up")
        except RuntimeError:
            pass
        assert outer.accounts.get("acc_1") is None
    with database.read() as store:
        assert store.accounts.get("acc_1") is None


def test_a_read_inside_a_transaction_inside_a_read_is_a_read_of_its_own(
        database: Database) -> None:
    with database.read() as outer:
        assert outer.accounts.get("acc_1") is None  # a snapshot is taken (SQLite)
        meanwhile = threading.Thread(target=_add_account, args=(database,))  # another request
        meanwhile.start()
        meanwhile.join()
        with database.transaction() as store:
            with database.read() as inner:
                assert inner is not outer and inner is not store
                assert database.open_store() is inner
                assert inner.accounts.get("acc_1") is not None  # not the outer snapshot
            assert database.open_store() is store


def _add_account(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
