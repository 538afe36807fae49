"""Concurrency on PostgreSQL: many confirmations of one quote charge once; several renewal
workers bill each period once (SPEC §4, §5; DESIGN: SKIP LOCKED workers); a stale quote's
payment is refunded once however many ask together (SPEC §9)."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import stored
from canone.billing.errors import InvalidField
from canone.integrations.einvoice.fatturapa import FatturaPaBuilder
from canone.integrations.einvoice.folder import FolderOutbox
from canone.integrations.vies import FakeVies
from canone.services import accounts, change_settlement, payments, quotes, renewal
from canone.services.context import Services
from canone.services.einvoicing import EInvoicing
from canone.services.errors import PaymentPending
from canone.services.renewal import RunReport
from canone.services.sellers import seller_in_effect

from .conftest import TIMEOUT_CARD, admin_of, at, config, make_services, sign_up
from .test_credit_notes import stale_quote_with_credit
from .test_einvoice_files import ECB, KINDS

pytestmark = pytest.mark.postgres


def together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released at the same instant; results or errors."""
    start = threading.Barrier(count)

    def one(i: int) -> Any:
        start.wait()
        try:
            return work(i)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_twenty_confirmations_of_one_quote_charge_once(pg_svc, clock) -> None:
    svc = pg_svc
    signed = sign_up(svc)
    ada = admin_of(svc, signed.account.id)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token

    results = together(20, lambda _: quotes.confirm(svc, ada, signed.account.id, token))

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert {r.invoice.id for r in results} == {results[0].invoice.id}
    assert svc.gateway.total_charged() == 4900 + 4800
    assert [i.kind for i in stored.invoices(svc, signed.account.id)] == ["signup", "upgrade"]
    with svc.database.transaction() as store:
        assert [p.amount for p in store.payments.of_account(signed.account.id)] == [4900, 4800]
        assert store.subscriptions.of_account(signed.account.id).version == 2


def test_four_renewal_workers_bill_each_period_once(pg_svc, clock, tmp_path) -> None:
    svc = pg_svc
    count = 60
    for n in range(count):
        clock.set(at(2026, 4, 1 + n % 20))
        sign_up(svc, config(seats=1 + n % 3), email=f"user{n}@example.com")
    clock.set(at(2026, 6, 25))  # two periods due for each: May and June

    # Each worker its own Services (own engine, own gateway handle) on the same database.
    workers = [make_services(type(svc.database)(svc.database.url), clock,
                             tmp_path / "sandbox.db") for _ in range(4)]
    try:
        reports: list[RunReport] = together(4, lambda i: renewal.run(workers[i], batch=7))
    finally:
        for worker in workers:
            worker.database.dispose()

    assert all(isinstance(r, RunReport) for r in reports), reports
    assert sum(r.renewed for r in reports) == 2 * count
    assert sum(r.collected for r in reports) == 2 * count
    with svc.database.transaction() as store:
        rows = store.connection.execute(text(
            "SELECT subscription_id, period_start, number, total, amount_paid FROM invoices "
            "WHERE kind = 'renewal'")).all()
    per_period = Counter((r.subscription_id, r.period_start) for r in rows)
    assert len(per_period) == 2 * count and set(per_period.values()) == {1}
    assert {r.period_start.month for r in rows} == {5, 6}
    assert all(r.amount_paid == r.total for r in rows)
    with svc.database.transaction() as store:
        numbers = sorted(store.connection.execute(text("SELECT number FROM invoices")).scalars())
    assert numbers == [f"2026-{n:06d}" for n in range(1, 3 * count + 1)]
    signups = sum(4900 + 1900 * (n % 3) for n in range(count))
    assert svc.gateway.total_charged() == 3 * signups
    assert renewal.run(svc).renewed == 0
    with svc.database.transaction() as store:
        starts = store.connection.execute(text("SELECT period_start FROM subscriptions")).scalars()
        assert {start.month for start in starts} == {6}


def filing(svc: Services, folder: Path) -> Services:
    """`svc` with the demo seller filing FatturaPA files into `folder` (SPEC §8)."""
    seller = seller_in_effect(None)
    return dataclasses.replace(svc, seller=seller, vies=FakeVies(), einvoicing=EInvoicing(
        seller, FatturaPaBuilder(ECB), FolderOutbox(folder), ECB))


def test_four_renewal_workers_file_each_invoice_once_with_progressives_in_number_order(
        pg_svc, clock, tmp_path) -> None:
    count = 24
    for n in range(count):
        clock.set(at(2026, 4, 1 + n % 20))
        sign_up(filing(pg_svc, tmp_path / "sdi"), config(currency="EUR"),
                email=f"user{n}@example.com",
                details=KINDS["IT business, SDI code" if n % 2 else "IT consumer"])
    clock.set(at(2026, 6, 25))  # two periods due for each: May and June
    workers = [filing(make_services(type(pg_svc.database)(pg_svc.database.url), clock,
                                    tmp_path / "sandbox.db"), tmp_path / "sdi")
               for _ in range(4)]
    try:
        reports = together(4, lambda i: renewal.run(workers[i], batch=5))
    finally:
        for worker in workers:
            worker.database.dispose()

    assert sum(r.renewed for r in reports) == 2 * count, reports
    with pg_svc.database.transaction() as store:
        filed = store.connection.execute(text(
            "SELECT e.file_name FROM invoices i JOIN einvoices e ON e.document_id = i.id "
            "ORDER BY i.number")).scalars().all()
    # Gapless, and in the order the invoices were issued in, whichever worker issued them.
    assert [int(name.removesuffix(".xml").split("_")[1], 36) for name in filed] == list(
        range(1, 3 * count + 1))


def test_a_stale_change_asked_to_refund_from_eight_places_at_once_is_refunded_once(
        pg_svc, clock) -> None:
    """The page's follow-up, Stripe's events and reconciliation may all ask for a stale
    quote's refund together (SPEC §9): the provider's key makes it one refund, and the
    account's lock makes it one refund row, one credit note and one email."""
    svc = pg_svc
    signed = sign_up(svc)
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token
    with pytest.raises(PaymentPending):  # 48.00 taken; the answer was lost
        quotes.confirm(svc, ada, signed.account.id, token)
    with svc.database.transaction() as store:  # another change moves the subscription on
        sub = store.subscriptions.of_account(signed.account.id, lock=True)
        store.subscriptions.save(sub.but(cancel_at_period_end=True, version=sub.version + 1))
        [intent] = [i for i in [store.payments.pending_intent_of(signed.account.id)] if i]
    outcome = payments.outcome_of(svc, intent)
    with svc.database.transaction() as store:  # settled; nobody asked for the refund yet
        payments.settle_in(svc, store, intent.key, outcome)

    results = together(8, lambda _: change_settlement.refund_stale(svc, intent.key))

    assert [r for r in results if isinstance(r, Exception)] == []
    with svc.database.transaction() as store:
        rows = [p for p in store.payments.of_account(signed.account.id) if p.amount < 0]
        notes = store.documents.credit_notes_of(signed.account.id, 10, None)
    assert [(p.amount, p.status) for p in rows] == [(-4800, "refunded")]
    assert [(n.total, n.settlement) for n in notes] == [(4800, "card")]
    assert stored.kinds(svc, signed.account.id).count("change_refunded") == 1


def test_a_stale_quote_s_invoice_and_credit_note_wait_for_a_credit_note_being_issued(
        pg_svc, clock, tmp_path) -> None:
    """A stale quote that used credit is invoiced, then its credit goes back with a credit
    note (SPEC §9), in one transaction that takes the credit notes' counter before the
    invoices' and the files' ones, as a credit note's own transaction does. Taken in the
    other order, the two transactions below would wait for each other (a deadlock)."""
    svc = filing(pg_svc, tmp_path / "sdi")
    stale = stale_quote_with_credit(svc, clock, KINDS["IT consumer"])
    note_started = threading.Event()

    def issuing_a_note() -> str:  # the counters as `issue_credit_note` takes them
        with svc.database.transaction() as store:
            number = store.documents.next_credit_note_number(2026)
            note_started.set()
            waiting_for_a_lock(svc)  # the settling transaction now waits for a counter
            store.documents.next_sdi_progressive()
            return number

    def reconciling() -> int:
        note_started.wait(10)
        return payments.reconcile(svc)

    results = together(2, lambda i: (issuing_a_note, reconciling)[i]())

    assert results == ["NC-2026-000001", 1]
    with svc.database.transaction() as store:
        notes = store.documents.credit_notes_of(stale.account.id, 10, None)
    # The balance's 20.00 back at once, then the card's 38.56 refunded after the commit.
    assert sorted((n.number, n.total) for n in notes) == [("NC-2026-000002", 2000),
                                                          ("NC-2026-000003", 3856)]


def waiting_for_a_lock(svc: Services) -> None:
    """Return once another session of this database waits for a lock (10 s at most)."""
    for _ in range(200):
        with svc.database.transaction() as store:
            waiting = store.connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()
        if waiting:
            return
        threading.Event().wait(0.05)
    raise AssertionError("no session waited for a lock")


def test_two_sign_ups_for_one_address_sent_together_charge_one_card(pg_svc) -> None:
    """Two tabs sending one sign-up form: one account, one charge; the other is told the
    address is taken (before, both cards were charged and the second never settled)."""
    for n in range(4):
        results = together(2, lambda _, n=n: sign_up(pg_svc, email=f"ada{n}@example.com"))

        refused = [r.field for r in results if isinstance(r, InvalidField)]
        assert (refused, stored.count_rows(pg_svc, "accounts")) == (
            ["primary_admin.email"], n + 1), results
        assert pg_svc.gateway.total_charged() == 4900 * (n + 1)
