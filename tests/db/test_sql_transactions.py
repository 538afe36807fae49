"""Uniqueness rules, rollback, and invoice numbers, on both backends."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from canone.db.database import Database
from canone.services.errors import Conflict
from canone.services.records import IdempotencyRecord, LedgerEntry, PaymentIntent

from .samples import T0, account, invoice, subscription, user


class Boom(Exception):
    pass


def test_taken_email_conflicts_whatever_its_case_and_the_transaction_goes_on(
        database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.people.add_user(user(1))
        with pytest.raises(Conflict):
            store.people.add_user(user(2, email="ANNA.1@example.COM"))
        store.people.add_user(user(3, email="other@example.com"))
    with database.transaction() as store:
        assert [u.id for u in store.people.users_of("acc_1")] == ["usr_1", "usr_3"]


def test_a_period_is_invoiced_once_but_other_kinds_may_share_it(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add(invoice(1))
        with pytest.raises(Conflict, match="renewal invoice for subscription sub_1"):
            store.invoices.add(invoice(2))
        store.invoices.add(invoice(3, kind="upgrade"))
        store.invoices.add(invoice(4, period_start=date(2026, 4, 30)))
    with database.transaction() as store:
        assert store.invoices.get("inv_2") is None
        assert [i.id for i in store.invoices.of_account("acc_1", 10, None)
                ] == ["inv_4", "inv_3", "inv_1"]


def test_a_taken_invoice_number_conflicts(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add(invoice(1, kind="signup"))
        with pytest.raises(Conflict):
            store.invoices.add(invoice(2, kind="signup", number="2026-000001"))


def test_taken_intent_key_and_idempotency_key_conflict(database: Database) -> None:
    intent = PaymentIntent("key-1", "acc_1", "change", 100, "EUR", "tok", {}, "pending", T0)
    record = IdempotencyRecord("key_1", "idem-1", "fp", 200, b"{}", T0)
    with database.transaction() as store:
        store.payments.add_intent(intent)
        store.access.save_idempotency(record)
        with pytest.raises(Conflict):
            store.payments.add_intent(intent.but(amount=200))
        with pytest.raises(Conflict):
            store.access.save_idempotency(
                IdempotencyRecord("key_1", "idem-1", "other", 500, b"", T0))
        store.access.save_idempotency(IdempotencyRecord("key_2", "idem-1", "fp", 200, b"{}", T0))
    with database.transaction() as store:
        assert store.payments.get_intent("key-1") == intent
        assert store.access.get_idempotency("key_1", "idem-1") == record


def test_one_subscription_per_account(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.subscriptions.add(subscription(1))
        with pytest.raises(Conflict):
            store.subscriptions.add(subscription(2))


def test_an_exception_rolls_back_everything(database: Database) -> None:
    with pytest.raises(Boom), database.transaction() as store:
        store.accounts.add(account())
        store.subscriptions.add(subscription())
        store.invoices.add(invoice())
        store.ledger.add(LedgerEntry("led_1", "acc_1", 500, "EUR", "credit", None, T0))
        raise Boom
    with database.transaction() as store:
        assert store.accounts.get("acc_1") is None
        assert store.subscriptions.of_account("acc_1") is None
        assert store.invoices.get("inv_1") is None
        assert store.ledger.balance_of("acc_1") == 0


def test_a_conflict_left_unhandled_rolls_back_the_whole_transaction(database: Database) -> None:
    with pytest.raises(Conflict), database.transaction() as store:
        store.accounts.add(account())
        store.people.add_user(user(1))
        store.people.add_user(user(2, email=user(1).email))
    with database.transaction() as store:
        assert store.accounts.get("acc_1") is None


def test_invoice_numbers_are_sequential_per_year_and_a_rollback_gives_its_number_back(
        database: Database) -> None:
    with database.transaction() as store:
        assert [store.invoices.next_number(2026) for _ in range(3)] == [
            "2026-000001", "2026-000002", "2026-000003"]
        assert store.invoices.next_number(2027) == "2027-000001"
    with pytest.raises(Boom), database.transaction() as store:
        assert store.invoices.next_number(2026) == "2026-000004"
        raise Boom
    with database.transaction() as store:
        assert store.invoices.next_number(2026) == "2026-000004"
        assert store.invoices.next_number(2027) == "2027-000002"


def test_numbers_can_be_taken_in_blocks(database: Database) -> None:
    with database.transaction() as store:
        assert store.invoices.next_number(2026) == "2026-000001"
        assert store.invoices.next_numbers(2026, 3) == ["2026-000002", "2026-000003",
                                                        "2026-000004"]
        assert store.invoices.next_numbers(2028, 2) == ["2028-000001", "2028-000002"]
        assert store.invoices.next_number(2026) == "2026-000005"


def test_concurrent_transactions_take_gapless_numbers(database: Database) -> None:
    taken: list[str] = []
    errors: list[BaseException] = []

    def take(fail: bool) -> None:
        try:
            with database.transaction() as store:
                number = store.invoices.next_number(2026)
                if fail:
                    raise Boom
                taken.append(number)
        except Boom:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(n % 3 == 0,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(taken) == [f"2026-{n:06d}" for n in range(1, 9)]


def test_balance_of_sums_the_ledger_of_one_account(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account(1))
        store.accounts.add(account(2))
        for n, amount in enumerate([10_000, -2_500, -7_499, 3_000_000_000_000]):
            store.ledger.add(LedgerEntry(f"led_{n}", "acc_1", amount, "EUR", "", None, T0))
        store.ledger.add(LedgerEntry("led_x", "acc_2", 42, "EUR", "", None, T0))
    with database.read() as store:
        assert store.ledger.balance_of("acc_1") == 3_000_000_000_001
        assert store.ledger.balance_of("acc_2") == 42
