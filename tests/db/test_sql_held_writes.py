"""What a transaction writes after it takes an invoice or credit note number (held and sent
together on PostgreSQL, `canone.db.held`) keeps every rule of a write sent at once: read
back in the transaction, a taken key a `Conflict`, a missing row a `LookupError`, and a
failure rolls back everything, the number included. On both backends."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import IntegrityError

from canone.db.database import Database
from canone.services.errors import Conflict
from canone.services.records import (
    AuditEntry,
    IdempotencyRecord,
    LedgerEntry,
    PaymentIntent,
)

from .samples import T0, account, invoice, subscription

INTENT = PaymentIntent("chg_1", "acc_1", "change", 100, "EUR", "tok", {}, "pending", T0)


def _setup(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.subscriptions.add(subscription())
        store.payments.add_intent(INTENT)
        store.access.save_idempotency(IdempotencyRecord("key_1", "idem-1", "fp", 0, b"", T0))


def test_writes_after_a_number_are_read_back_and_committed_in_order(database: Database
                                                                     ) -> None:
    _setup(database)
    with database.transaction() as store:
        number = store.invoices.next_number(2026)
        store.invoices.add(invoice(1, kind="upgrade", number=number))
        store.payments.save_intent(INTENT.but(status="succeeded", result={"n": number}))
        store.access.finish_idempotency(IdempotencyRecord("key_1", "idem-1", "fp", 200,
                                                          number.encode(), T0))
        store.ledger.add(LedgerEntry("led_1", "acc_1", -500, "EUR", f"Applied to {number}",
                                     "inv_1", T0))
        assert store.ledger.balance_of("acc_1") == -500
        assert store.invoices.get("inv_1") == invoice(1, kind="upgrade", number=number)
        note = store.documents.next_credit_note_number(2026)
        store.audit.add(AuditEntry("aud_1", "acc_1", "system", "invoice.issued", None,
                                   {"invoice": number, "note": note}, T0))
    with database.read() as store:
        assert store.invoices.get("inv_1") == invoice(1, kind="upgrade", number=number)
        intent = store.payments.get_intent("chg_1")
        assert intent is not None and intent.result == {"n": number}
        record = store.access.get_idempotency("key_1", "idem-1")
        assert record is not None and (record.status_code, record.body) == (200, b"2026-000001")
        assert [e.after for e in store.audit.of_account("acc_1", 5)] == [
            {"invoice": "2026-000001", "note": "NC-2026-000001"}]


def test_a_taken_key_after_a_number_rolls_it_back(database: Database) -> None:
    _setup(database)
    with pytest.raises(Conflict, match="invoice inv_1"), database.transaction() as store:
        number = store.invoices.next_number(2026)
        store.invoices.add(invoice(1, kind="upgrade", number=number))
        store.invoices.add(invoice(1, kind="upgrade", number="2026-000009"))
    with database.transaction() as store:
        assert store.invoices.get("inv_1") is None
        assert store.invoices.next_number(2026) == "2026-000001"


def test_a_missing_row_after_a_number_rolls_it_back(database: Database) -> None:
    _setup(database)
    with pytest.raises(LookupError), database.transaction() as store:
        store.invoices.add(invoice(1, kind="upgrade", number=store.invoices.next_number(2026)))
        store.payments.save_intent(replace(INTENT, key="chg_none"))
    with database.transaction() as store:
        assert store.invoices.get("inv_1") is None
        assert store.invoices.next_number(2026) == "2026-000001"


def test_a_caught_conflict_of_a_batch_after_a_number_is_raised_where_it_is_caught(
        database: Database) -> None:
    _setup(database)
    with database.transaction() as store:
        store.invoices.next_number(2026)
        with pytest.raises(Conflict, match="payment intents"):
            store.payments.add_intents([INTENT])


def test_a_stored_answer_that_may_exist_is_a_conflict_at_once_after_a_number(
        database: Database) -> None:
    """`idempotency.respond` catches the Conflict of a key already answered and reads the
    earlier answer in the same transaction: that insert is never held."""
    _setup(database)
    with database.transaction() as store:
        number = store.invoices.next_number(2026)
        store.invoices.add(invoice(1, kind="upgrade", number=number))
        with pytest.raises(Conflict, match="idem-1"):
            store.access.save_idempotency(IdempotencyRecord("key_1", "idem-1", "fp", 200,
                                                            b"again", T0))
        earlier = store.access.get_idempotency("key_1", "idem-1")
        assert earlier is not None and (earlier.status_code, earlier.body) == (0, b"")
    with database.read() as store:
        assert store.invoices.get("inv_1") == invoice(1, kind="upgrade", number="2026-000001")


LEDGER = LedgerEntry("led_1", "acc_1", 500, "EUR", "Goodwill", None, T0)


@pytest.mark.sql("a batch with a taken key is an IntegrityError on SQL, a Conflict in memory")
def test_a_batch_that_fails_after_some_rows_is_blamed_not_the_write_after_it(
        database: Database) -> None:
    """A held executemany that wrote its first row and failed on its second did not run to
    its end: its error is raised, not the `Conflict` of the insert held after it (which
    the server skipped)."""
    _setup(database)
    with pytest.raises(IntegrityError), database.transaction() as store:
        store.invoices.next_number(2026)
        store.ledger.add_many([LEDGER, LEDGER])
        store.ledger.add(replace(LEDGER, id="led_2"))
    with database.read() as store:
        assert store.ledger.of_account("acc_1") == []


@pytest.mark.sql("a batch with a taken key is an IntegrityError on SQL, a Conflict in memory")
@pytest.mark.parametrize("batch", ["intents", "invoices"])
def test_a_batch_does_not_report_an_earlier_held_writes_failure_as_its_own(
        database: Database, batch: str) -> None:
    """`add_intents` and `add_many` send what is held to raise their own `Conflict` where
    the caller catches it; a write held before them that fails is not theirs."""
    _setup(database)
    with database.transaction() as store:
        store.ledger.add(LEDGER)
    with pytest.raises(IntegrityError), database.transaction() as store:
        number = store.invoices.next_number(2026)
        store.ledger.add_many([LEDGER])
        if batch == "intents":
            store.payments.add_intents([replace(INTENT, key="chg_2")])
        else:
            store.invoices.add_many([invoice(1, kind="upgrade", number=number)])
    with database.transaction() as store:
        assert store.invoices.next_number(2026) == "2026-000001"


def test_a_batch_with_a_taken_key_after_a_number_is_its_own_conflict(database: Database
                                                                      ) -> None:
    _setup(database)
    with database.transaction() as store:
        number = store.invoices.next_number(2026)
        store.invoices.add(invoice(1, kind="upgrade", number=number))
        with pytest.raises(Conflict, match=r"^one of 2 invoices already exists$"):
            store.invoices.add_many([invoice(2, kind="upgrade", number="2026-000002"),
                                     invoice(1, kind="upgrade", number=number)])
