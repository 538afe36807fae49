"""Rows updated many at a time (the billing run's batches: one statement on PostgreSQL) read back
exactly as rows saved one at a time; a missing row is a LookupError, a key given twice
keeps its last values, and saving outcomes writes nothing else."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest

from canone.db.database import Database
from canone.services.records import PaymentIntent

from .samples import BIG, CONFIG, SMALLER, account, invoice, later, subscription

AWKWARD = 'a\tb\nc\\d \\N "e" \'f\' {x,y} ✓ €'
MANY = 12
ROME = timezone(timedelta(hours=2))


def _intent(n: int) -> PaymentIntent:
    return PaymentIntent(f"col_inv_{n}_1", "acc_1", "invoice", BIG, "EUR", f"card_{n}",
                         {"invoice_id": f"inv_{n}"}, "pending", later(n))


def test_many_subscriptions_invoices_and_intents_are_updated_at_once(database: Database
                                                                     ) -> None:
    subs = [subscription(n, account_id=f"acc_{n}") for n in range(1, MANY + 1)]
    with database.transaction() as store:
        for n, sub in enumerate(subs, 1):
            store.accounts.add(account(n))
            store.subscriptions.add(sub)
        store.invoices.add_many([invoice(n, subscription_id=f"sub_{n}")
                                 for n in range(1, MANY + 1)])
        store.payments.add_intents([_intent(n) for n in range(1, MANY + 1)])
    renewed = [s.but(config=SMALLER if n % 2 else CONFIG, pending=None if n % 2 else CONFIG,
                     renews_at=later(n).astimezone(ROME), cancel_at_period_end=bool(n % 3),
                     status="past_due" if n % 2 else "active", version=s.version + n)
               for n, s in enumerate(subs, 1)]
    paid = [invoice(n, subscription_id=f"sub_{n}", status="paid" if n % 2 else "open",
                    amount_paid=BIG - n, attempts=n, credit_applied=n,
                    next_attempt_at=None if n % 2 else later(n).astimezone(ROME))
            for n in range(1, MANY + 1)]
    settled = [_intent(n).but(status="failed", result=None if n % 2 else {"message": AWKWARD})
               for n in range(1, MANY + 1)]
    with database.transaction() as store:
        store.subscriptions.save_many(renewed)
        store.invoices.save_many(paid)
        store.payments.save_intents(settled)
    with database.transaction() as store:
        read = [store.subscriptions.of_account(f"acc_{n}") for n in range(1, MANY + 1)]
        assert read == renewed
        found = store.invoices.by_ids([i.id for i in paid])
        assert [found[i.id] for i in paid] == paid
        assert read[0] is not None and read[0].renews_at.tzinfo == UTC  # instants as UTC
        assert list(store.payments.intents_by_key([i.key for i in settled]).values()) == sorted(
            settled, key=lambda i: i.key)


def test_saving_outcomes_writes_only_status_and_result(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.payments.add_intents([_intent(n) for n in range(MANY)])
    with database.transaction() as store:
        store.payments.save_outcomes([_intent(n).but(status="succeeded", result={"text": AWKWARD},
                                                     account_id="acc_2", amount=n, payload={})
                                      for n in range(MANY)])
    with database.transaction() as store:
        keys = [_intent(n).key for n in range(MANY)]
        assert list(store.payments.intents_by_key(keys).values()) == [
            _intent(n).but(status="succeeded", result={"text": AWKWARD})
            for n in sorted(range(MANY), key=lambda n: _intent(n).key)]


def test_a_missing_row_among_many_is_a_lookup_error(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.payments.add_intents([_intent(n) for n in range(MANY)])
    with pytest.raises(LookupError, match="1 of the payment intents do not exist"), \
            database.transaction() as store:
        store.payments.save_outcomes([_intent(n).but(status="failed") for n in range(MANY + 1)])
    with database.transaction() as store:  # nothing of the batch was written
        assert {i.status for i in store.payments.intents_by_key(
            [_intent(n).key for n in range(MANY)]).values()} == {"pending"}


def test_a_key_saved_twice_keeps_its_last_values(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add_many([invoice(n, subscription_id=f"sub_{n}") for n in range(MANY)])
        store.invoices.save_many([invoice(n, subscription_id=f"sub_{n}", attempts=a)
                                  for n in range(MANY) for a in (5, 6)])
    with database.transaction() as store:
        found = store.invoices.by_ids([f"inv_{n}" for n in range(MANY)])
        assert {i.attempts for i in found.values()} == {6}
