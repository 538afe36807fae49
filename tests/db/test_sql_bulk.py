"""Rows written many at a time (the billing run's batches; COPY on PostgreSQL) read back
exactly as rows written one at a time, and a taken key is still a Conflict."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from canone.db.database import Database
from canone.services.errors import Conflict
from canone.services.records import (
    AuditEntry,
    Event,
    InvoiceLine,
    LedgerEntry,
    Notification,
    Payment,
)

from .samples import BIG, account, invoice, later

# Text that a line-oriented bulk format must escape: tab, newline, backslash, \N, quotes.
AWKWARD = 'a\tb\nc\\d \\N "e" \'f\' ✓ €'
MANY = 12


def _invoices() -> list:
    return [invoice(n, subscription_id=f"sub_{n}",
                    lines=(InvoiceLine("plan", f"{AWKWARD} {n}", BIG),
                           InvoiceLine("credit", "", -n)),
                    total=BIG - n, next_attempt_at=None if n % 2 else later(n))
            for n in range(1, MANY + 1)]


def test_many_invoices_audit_entries_events_and_payments_round_trip(database: Database
                                                                    ) -> None:
    rome = timezone(timedelta(hours=2))
    audits = [AuditEntry(f"aud_{n}", "acc_1", "system", "subscription.renewed",
                         None if n % 2 else {"text": AWKWARD, "n": [n, None, True]},
                         {"big": BIG, "nested": {"text": AWKWARD}}, later(n))
              for n in range(MANY)]
    events = [Event(f"evt_{n}", "invoice.issued", "acc_1" if n % 3 else None,
                    {"text": AWKWARD, "n": n}, later(n).astimezone(rome))
              for n in range(MANY)]
    paid = [Payment(f"pay_{n}", "acc_1", None if n % 2 else f"inv_{n + 1}", BIG, "EUR",
                    "succeeded", None if n % 2 else f"ch_{n}", f"key-{n}", AWKWARD, later(n))
            for n in range(MANY)]
    notes = [Notification(f"ntf_{n}", "acc_1", "anna@example.com", "renewal_receipt", "it",
                          {"text": AWKWARD}, later(n)) for n in range(MANY)]
    with database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add_many(_invoices())
        store.audit.add_many(audits)
        store.outbox.add_events(events)
        store.payments.add_many(paid)
        store.outbox.add_notifications(notes)
    with database.transaction() as store:
        found = store.invoices.by_ids([f"inv_{n}" for n in range(1, MANY + 1)])
        assert sorted(found.values(), key=lambda i: int(i.id[4:])) == _invoices()
        # newest first, in the order written
        assert store.audit.of_account("acc_1", 100) == audits[::-1]
        assert store.outbox.events_of(None, 100) == events[::-1]  # aware instants compare as UTC
        assert store.payments.of_account("acc_1") == paid
        payloads = [item.payload for item in store.outbox.due_notifications(later(MANY), 100)]
        assert sorted(p["data"]["text"] for p in payloads) == [AWKWARD] * MANY


def test_a_taken_key_among_many_invoices_is_a_conflict(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add(invoice(MANY, subscription_id=f"sub_{MANY}"))
    with pytest.raises(Conflict), database.transaction() as store:
        store.invoices.add_many(_invoices())
    with database.transaction() as store:  # nothing of the batch was written
        assert store.invoices.of_account("acc_1", 100, None) == [
            invoice(MANY, subscription_id=f"sub_{MANY}")]


def test_many_ledger_entries_keep_their_order_and_sum(database: Database) -> None:
    entries = [LedgerEntry(f"led_{n}", "acc_1", BIG if n == 0 else -n, "EUR",
                           f"{AWKWARD} {n}", None if n % 2 else f"inv_{n}", later(0))
               for n in range(MANY)]  # one instant: the order written decides
    with database.transaction() as store:
        store.accounts.add(account())
        store.ledger.add_many(entries)
        store.ledger.add_many([])
    with database.transaction() as store:
        assert store.ledger.of_account("acc_1") == entries
        assert store.ledger.balances_of(["acc_1", "acc_2"]) == {
            "acc_1": BIG - sum(range(MANY)), "acc_2": 0}


@pytest.mark.postgres
def test_an_integer_too_wide_for_its_column_is_refused_not_wrapped(
        postgres_database: Database) -> None:
    """Binary COPY sends an `attempts` (int4) in four bytes, where 2**31 would arrive as
    -2**31 and the batch would commit: it is refused first, and nothing is written."""
    wide = [i.but(attempts=2**31) if i.id == "inv_3" else i for i in _invoices()]
    refused = pytest.raises(ValueError, match=r"^invoices\.attempts: 2147483648 does not fit")
    with refused, postgres_database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add_many(wide)
    with postgres_database.read() as store:
        assert store.invoices.by_ids([i.id for i in wide]) == {}
