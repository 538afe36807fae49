"""Change requests: created by customers (or by email), handled by support, applied at
period end or at once with the unused part credited; every step is emailed (SPEC §5)."""

from __future__ import annotations

from datetime import date

import pytest

import stored
from canone.billing.errors import InvalidField
from canone.services import quotes, renewal, requests
from canone.services.access import EMAIL, Actor
from canone.services.errors import Forbidden, InvalidTransition, NotFound

from .conftest import SUPPORT, add_person, admin_of, at, config, sign_up


def status_mails(svc, account_id: str) -> list[tuple[str, str, str]]:
    return sorted((n["to"], n["kind"], n["data"]["status"])
                  for n in stored.notifications(svc, account_id)
                  if n["kind"] in ("request_received", "request_status"))


def test_full_lifecycle_applied_at_period_end(svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    clock.set(at(2026, 4, 10))
    quote = quotes.preview(svc, ada, signed.account.id, config(tier="starter"))
    assert quote.change.kind == "request"

    created = requests.create(svc, ada, signed.account.id, quote.change.target,
                              "budget", "We need less for now.")
    assert created.status == "open" and created.verified and created.source == "portal"
    assert created.requester_email == "ada@example.com"
    assert [n["kind"] for n in stored.notifications(svc, signed.account.id)
            if n["kind"].startswith("request")] == ["request_received"]

    taken = requests.transition(svc, SUPPORT, created.id, "in_progress", message="On it")
    done = requests.transition(svc, SUPPORT, created.id, "completed", "period_end", "Done")

    assert taken.status == "in_progress"
    assert done.status == "completed" and done.effective == "period_end"
    assert [(e.from_status, e.to_status, e.actor) for e in done.history] == [
        (None, "open", "user:ada@example.com"), ("open", "in_progress", SUPPORT.name),
        ("in_progress", "completed", SUPPORT.name)]
    assert status_mails(svc, signed.account.id) == [
        ("ada@example.com", "request_received", "open"),
        ("ada@example.com", "request_status", "completed"),
        ("ada@example.com", "request_status", "in_progress")]
    sub = stored.subscription(svc, signed.account.id)
    assert sub.config == config() and sub.pending == config(tier="starter")
    assert requests.get(svc, ada, created.id) == done
    assert requests.requests_of(svc, ada, signed.account.id) == [done]

    clock.set(at(2026, 5, 1))
    renewal.run(svc)

    sub = stored.subscription(svc, signed.account.id)
    assert sub.config == config(tier="starter") and sub.pending is None
    assert [i.total for i in stored.invoices(svc, signed.account.id)] == [4900, 1500]
    assert svc.gateway.total_charged() == 4900 + 1500


def test_applied_now_credits_the_unused_part_to_the_ledger(svc, clock) -> None:
    signed = sign_up(svc, config(tier="pro"))  # 79
    ada = admin_of(svc, signed.account.id)
    request = requests.create(svc, ada, signed.account.id, config(tier="plus"), "",
                              "Plus is enough")
    clock.set(at(2026, 4, 16))

    requests.transition(svc, SUPPORT, request.id, "completed", "now")

    # 79 → 49 for 15 of 30 days: −39.50 + 24.50 = 15.00 credited.
    # A credit note gives it back against the sign-up invoice; the entry points at it.
    with svc.database.read() as store:
        [note] = store.documents.credit_notes_of(signed.account.id, 10, None)
    assert (note.number, note.invoice_number, note.total, note.source_id) == (
        "NC-2026-000001", "2026-000001", 1500, request.id)
    assert [(e.amount, e.credit_note_id) for e in stored.ledger(svc, signed.account.id)] == [
        (1500, note.id)]
    assert stored.balance(svc, signed.account.id) == 1500
    assert stored.subscription(svc, signed.account.id).config == config(tier="plus")
    assert len(stored.invoices(svc, signed.account.id)) == 1  # no invoice for a credit

    clock.set(at(2026, 5, 1))
    renewal.run(svc)

    renewed = stored.invoices(svc, signed.account.id)[-1]
    assert (renewed.total, renewed.credit_applied, renewed.amount_paid) == (4900, 1500, 3400)
    assert stored.balance(svc, signed.account.id) == 0
    assert [e.amount for e in stored.ledger(svc, signed.account.id)] == [1500, -1500]
    assert svc.gateway.total_charged() == 7900 + 3400


def test_applied_now_that_costs_more_issues_an_open_invoice_collected_by_the_run(
        svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    bundle = config(product="bundle")
    request = requests.create(svc, ada, signed.account.id, bundle, "", "Add sales")
    clock.set(at(2026, 4, 16))

    requests.transition(svc, SUPPORT, request.id, "completed", "now")

    invoice = stored.invoices(svc, signed.account.id)[-1]
    # 49 → 93 for 15 of 30 days: −24.50 + 46.50.
    assert (invoice.kind, invoice.total, invoice.status, invoice.amount_paid) == (
        "request", 2200, "open", 0)
    assert (invoice.period_start, invoice.period_end) == (date(2026, 4, 16), date(2026, 5, 1))
    assert stored.subscription(svc, signed.account.id).config == bundle

    renewal.run(svc)

    assert stored.invoices(svc, signed.account.id)[-1].status == "paid"
    assert svc.gateway.total_charged() == 4900 + 2200


def test_month_to_year_at_period_end_starts_a_yearly_period_then(svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    yearly = config(interval="year")
    request = requests.create(svc, ada, signed.account.id, yearly, "", "Yearly please")
    requests.transition(svc, SUPPORT, request.id, "completed", "period_end")

    clock.set(at(2026, 5, 1))
    renewal.run(svc)

    sub = stored.subscription(svc, signed.account.id)
    assert sub.config == yearly
    assert (sub.anchor, sub.period_start, sub.period_end) == (
        date(2026, 5, 1), date(2026, 5, 1), date(2027, 5, 1))
    renewed = stored.invoices(svc, signed.account.id)[-1]
    assert (renewed.total, renewed.period_start, renewed.period_end) == (
        47040, date(2026, 5, 1), date(2027, 5, 1))
    clock.set(at(2026, 6, 1))
    assert renewal.run(svc).renewed == 0


def test_year_to_month_at_period_end(svc, clock) -> None:
    signed = sign_up(svc, config(interval="year"))
    ada = admin_of(svc, signed.account.id)
    request = requests.create(svc, ada, signed.account.id, config(), "", "Monthly please")
    requests.transition(svc, SUPPORT, request.id, "completed", "period_end")

    clock.set(at(2027, 4, 1))
    renewal.run(svc)
    clock.set(at(2027, 5, 1))
    renewal.run(svc)

    assert [(i.total, i.period_start) for i in stored.invoices(svc, signed.account.id)] == [
        (47040, date(2026, 4, 1)), (4900, date(2027, 4, 1)), (4900, date(2027, 5, 1))]


def test_decline_and_withdraw_end_a_request(svc, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    first = requests.create(svc, ada, signed.account.id, config(tier="starter"), "", "")
    second = requests.create(svc, ada, signed.account.id, None, "other", "Can we talk?")

    declined = requests.transition(svc, SUPPORT, first.id, "declined", message="Not now")
    withdrawn = requests.transition(svc, ada, second.id, "withdrawn")

    assert (declined.status, withdrawn.status) == ("declined", "withdrawn")
    assert stored.subscription(svc, signed.account.id).pending is None
    assert status_mails(svc, signed.account.id) == sorted([
        ("ada@example.com", "request_received", "open"),
        ("ada@example.com", "request_received", "open"),
        ("ada@example.com", "request_status", "declined"),
        ("ada@example.com", "request_status", "withdrawn")])
    for request_id, to in ((first.id, "in_progress"), (first.id, "completed"),
                           (second.id, "open"), (second.id, "declined")):
        with pytest.raises(InvalidTransition):
            requests.transition(svc, SUPPORT, request_id, to)


def test_invalid_transitions_and_who_may_make_them(svc) -> None:
    signed = sign_up(svc, config(seats=2))  # a seat for Eve
    ada = admin_of(svc, signed.account.id)
    request = requests.create(svc, ada, signed.account.id, config(tier="starter", seats=2), "", "")
    eve = Actor.of_user(add_person(svc, signed.account.id, "eve@example.com"))

    with pytest.raises(Forbidden):  # customers do not handle their own requests
        requests.transition(svc, ada, request.id, "completed")
    with pytest.raises(Forbidden):
        requests.transition(svc, eve, request.id, "withdrawn")
    with pytest.raises(InvalidTransition):
        requests.transition(svc, SUPPORT, request.id, "open")
    with pytest.raises(InvalidField):
        requests.transition(svc, SUPPORT, request.id, "completed", "tomorrow")
    with pytest.raises(NotFound):
        requests.transition(svc, SUPPORT, "req_missing", "completed")
    with pytest.raises(InvalidField):
        requests.create(svc, ada, signed.account.id, None, "", "   ")
    completed = requests.transition(svc, SUPPORT, request.id, "completed")
    with pytest.raises(InvalidTransition):
        requests.transition(svc, ada, completed.id, "withdrawn")
    assert requests.queue(svc, SUPPORT, "completed") == [completed]
    with pytest.raises(Forbidden):
        requests.queue(svc, ada, None)


def test_a_custom_priced_request_cannot_be_applied_from_the_list(svc, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    request = requests.create(svc, ada, signed.account.id, config(contacts=100_000), "",
                              "Contact sales")

    with pytest.raises(InvalidTransition):
        requests.transition(svc, SUPPORT, request.id, "completed", "now")
    assert requests.get(svc, SUPPORT, request.id).status == "open"


def test_an_emailed_request_is_taken_by_support_before_it_is_applied(svc, clock,
                                                                    signed) -> None:
    mail = Actor(EMAIL, "email:ada@example.com", signed.account.id)
    request = requests.create(svc, mail, signed.account.id, config(tier="starter"), "",
                              "Please downgrade us", source="email")
    assert (request.verified, request.source, request.requester_email) == (
        False, "email", "ada@example.com")

    with pytest.raises(InvalidTransition, match="in_progress"):
        requests.transition(svc, SUPPORT, request.id, "completed", "period_end")
    assert stored.subscription(svc, signed.account.id).pending is None

    taken = requests.transition(svc, SUPPORT, request.id, "in_progress")
    assert taken.verified
    requests.transition(svc, SUPPORT, request.id, "completed", "period_end")
    assert stored.subscription(svc, signed.account.id).pending == config(tier="starter")
    assert ("ada@example.com", "request_received", "open") in status_mails(
        svc, signed.account.id)
    assert stored.payments(svc, signed.account.id)[-1].amount == 4900
