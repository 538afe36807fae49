"""Money invariants after random sequences of operations (hypothesis stateful testing, on
SQLite for speed): every invoice total = amount paid + credit applied (+ amount due while
open); payments and ledger entries back those amounts; the balance is never negative;
invoice numbers are gapless and sequential per year; the network took exactly what the
payments say."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from canone.billing.configuration import Configuration
from canone.billing.errors import BillingError
from canone.db.database import Database
from canone.services import accounts, quotes, renewal, requests, subscriptions, usage
from canone.services.access import ACCOUNT_KEY, Actor

from .conftest import (
    DECLINED_CARD,
    GOOD_CARD,
    NO_FUNDS_CARD,
    SUPPORT,
    TestClock,
    admin_of,
    at,
    make_services,
    sign_up,
)

STEPS = (1000, 2500, 5000, 10_000, 25_000)
TIERS = ("starter", "plus", "pro", "enterprise")

plans = st.builds(
    Configuration,
    product=st.sampled_from(("marketing", "marketing", "bundle")),
    tier=st.sampled_from(TIERS),
    interval=st.sampled_from(("month", "month", "year")),
    currency=st.just("USD"),
    contacts=st.sampled_from(STEPS),
    seats=st.integers(1, 6),
    addons=st.sampled_from(((), (), ("sms",), ("transactional_email",),
                            ("sms", "transactional_email"))),
)
starting_plans = st.builds(
    Configuration, product=st.just("marketing"), tier=st.sampled_from(("plus", "pro")),
    interval=st.sampled_from(("month", "month", "year")), currency=st.just("USD"),
    contacts=st.sampled_from(STEPS[:3]), seats=st.integers(1, 4),
    addons=st.sampled_from(((), ("sms",))))
tweaks = st.one_of(
    st.tuples(st.just("contacts"), st.sampled_from(STEPS)),
    st.tuples(st.just("seats"), st.integers(-2, 3)),
    st.tuples(st.just("tier"), st.sampled_from(TIERS)),
    st.tuples(st.just("interval"), st.sampled_from(("month", "year"))),
    st.tuples(st.just("addons"), st.sampled_from(((), ("sms",), ("sms", "transactional_email")))),
)
cards = st.sampled_from((GOOD_CARD, GOOD_CARD, GOOD_CARD, DECLINED_CARD, NO_FUNDS_CARD))
which = st.integers(0, 99)
SEEN: Counter[str] = Counter()  # what the random runs did (printed with pytest -s)


def note(what: str) -> None:
    event(what)
    SEEN[what] += 1


def check_books(svc) -> None:
    with svc.database.transaction() as store:
        account_ids = [a.id for a in store.accounts.find(None, 1000, None)]
        numbers: dict[str, list[int]] = defaultdict(list)
        paid_in = 0
        for account_id in account_ids:
            invoices = store.invoices.of_account(account_id, 10_000, None)
            entries = store.ledger.of_account(account_id)
            payments = store.payments.of_account(account_id)
            running = 0
            for entry in entries:
                running += entry.amount
                assert running >= 0, f"{account_id}: balance went negative"
            assert store.ledger.balance_of(account_id) == running
            used: dict[str | None, int] = defaultdict(int)
            for entry in entries:
                if entry.amount < 0:
                    used[entry.invoice_id] -= entry.amount
            assert None not in used, "credit used without an invoice"
            paid: dict[str | None, int] = defaultdict(int)
            for payment in payments:
                if payment.status == "succeeded":
                    paid[payment.invoice_id] += payment.amount
                    paid_in += payment.amount
            for invoice in invoices:
                assert invoice.total == sum(line.amount for line in invoice.lines)
                assert invoice.credit_applied == used.get(invoice.id, 0), invoice
                assert invoice.amount_paid == paid.get(invoice.id, 0), invoice
                if invoice.status == "paid":
                    assert invoice.total == invoice.amount_paid + invoice.credit_applied, invoice
                else:
                    assert invoice.status == "open"
                    assert invoice.amount_due > 0 and invoice.amount_paid == 0, invoice
                    assert invoice.total == (invoice.amount_paid + invoice.credit_applied
                                             + invoice.amount_due)
                year, number = invoice.number.split("-")
                numbers[year].append(int(number))
    for year, seen in numbers.items():
        assert sorted(seen) == list(range(1, len(seen) + 1)), f"gap in {year}: {sorted(seen)}"
    assert svc.gateway.total_charged() == paid_in


def test_money_invariants_hold_after_random_operations(_sqlite_template: Path,
                                                       tmp_path: Path) -> None:
    counter = itertools.count()

    class Billing(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(counter)
            path = tmp_path / f"machine{n}.db"
            shutil.copyfile(_sqlite_template, path)
            self.clock = TestClock(at(2026, 1, 5))
            self.svc = make_services(Database(f"sqlite:///{path}"), self.clock,
                                     tmp_path / f"sandbox{n}.db")
            self.accounts: list[str] = []
            self.emails = itertools.count()

        def teardown(self) -> None:
            self.svc.database.dispose()

        def pick(self, i: int) -> str:
            return self.accounts[i % len(self.accounts)]

        @precondition(lambda self: len(self.accounts) < 4)
        @rule(plan=st.one_of(starting_plans, plans), card=cards, timezone=st.sampled_from(
            ("UTC", "Europe/Rome", "America/Los_Angeles", "Pacific/Auckland")))
        def sign_up(self, plan: Configuration, card, timezone: str) -> None:
            try:
                signed = sign_up(self.svc, plan, email=f"p{next(self.emails)}@example.com",
                                 timezone=timezone, card=card)
            except BillingError as exc:
                note(f"sign-up refused: {type(exc).__name__}")
                return
            note("signed up")
            self.accounts.append(signed.account.id)

        @precondition(lambda self: self.accounts)
        @rule(days=st.integers(0, 40), hours=st.integers(0, 23))
        def time_passes(self, days: int, hours: int) -> None:
            self.clock.advance(days=days, hours=hours)
            report = renewal.run(self.svc)
            note(f"renewed {min(report.renewed, 3)}+, failed {min(report.failed, 1)}+")

        @precondition(lambda self: self.accounts)
        @rule(i=which, plan=plans | tweaks)
        def change_plan(self, i: int, plan: Configuration | tuple[str, object]) -> None:
            account_id = self.pick(i)
            admin = admin_of(self.svc, account_id)
            if isinstance(plan, tuple):  # a tweak of the current configuration
                field, value = plan
                with self.svc.database.transaction() as store:
                    current = store.subscriptions.of_account(account_id).config
                if field == "seats":
                    value = max(1, current.seats + value)
                plan = current.with_(**{field: value})
            try:
                quote = quotes.preview(self.svc, admin, account_id, plan)
                note(f"change: {quote.change.kind}")
                if quote.token is not None:
                    quotes.confirm(self.svc, admin, account_id, quote.token)
                    note("change confirmed")
            except BillingError as exc:
                note(f"change refused: {type(exc).__name__}")

        @precondition(lambda self: self.accounts)
        @rule(i=which, plan=plans, now=st.booleans())
        def support_applies_a_request(self, i: int, plan: Configuration, now: bool) -> None:
            account_id = self.pick(i)
            try:
                request = requests.create(self.svc, admin_of(self.svc, account_id),
                                          account_id, plan, "", "please")
                requests.transition(self.svc, SUPPORT, request.id, "completed",
                                    "now" if now else "period_end")
                note("request applied")
            except BillingError as exc:
                note(f"request refused: {type(exc).__name__}")

        @precondition(lambda self: self.accounts)
        @rule(i=which, card=cards)
        def update_card(self, i: int, card) -> None:
            account_id = self.pick(i)
            accounts.update_card(self.svc, admin_of(self.svc, account_id), account_id, card)

        @precondition(lambda self: self.accounts)
        @rule(i=which, cancel=st.booleans())
        def cancel_or_resume(self, i: int, cancel: bool) -> None:
            account_id = self.pick(i)
            with contextlib.suppress(BillingError):
                subscriptions.set_cancellation(self.svc, admin_of(self.svc, account_id),
                                               account_id, cancel)

        @precondition(lambda self: self.accounts)
        @rule(i=which)
        def drop_pending(self, i: int) -> None:
            account_id = self.pick(i)
            with contextlib.suppress(BillingError):
                subscriptions.drop_pending(self.svc, admin_of(self.svc, account_id),
                                           account_id)

        @precondition(lambda self: self.accounts)
        @rule(i=which, contacts=st.integers(0, 30_000), auto=st.booleans())
        def usage_reported(self, i: int, contacts: int, auto: bool) -> None:
            account_id = self.pick(i)
            try:
                accounts.set_auto_upgrade(self.svc, admin_of(self.svc, account_id),
                                          account_id, auto)
                usage.report(self.svc, Actor(ACCOUNT_KEY, "key:host", account_id),
                             account_id, contacts, 1)
            except BillingError:
                pass

        @invariant()
        def the_books_balance(self) -> None:
            check_books(self.svc)

    run_state_machine_as_test(Billing, settings=settings(
        max_examples=int(os.environ.get("CANONE_STATEFUL_EXAMPLES", "12")),
        stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
    print(dict(sorted(SEEN.items())))


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_the_invariant_checker_sees_a_broken_invoice(svc, signed) -> None:
    """The checker itself: a paid invoice whose credit has no ledger entry is caught."""
    check_books(svc)
    with svc.database.transaction() as store:
        invoice = store.invoices.get(signed.invoice.id)
        store.invoices.save(invoice.but(credit_applied=100, amount_paid=invoice.total - 100))
    with pytest.raises(AssertionError):
        check_books(svc)
