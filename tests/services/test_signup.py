"""Sign-up: the first period invoiced and charged in full at once; a failed card creates
nothing (SPEC §5)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

import stored
from canone.billing.errors import InvalidField
from canone.services import accounts, payments
from canone.services.errors import PaymentFailed, PaymentPending
from canone.services.usage import entitlements
from sandboxnetwork import BankStillDeciding

from .conftest import (
    DECLINED_CARD,
    NO_FUNDS_CARD,
    TIMEOUT_CARD,
    admin_of,
    at,
    config,
    sign_up,
)


def test_sign_up_charges_the_first_period_in_full(svc, clock) -> None:
    signed = sign_up(svc, config(seats=3, addons=("sms",)))

    assert signed.subscription.anchor == date(2026, 4, 1)
    assert (signed.subscription.period_start, signed.subscription.period_end) == (
        date(2026, 4, 1), date(2026, 5, 1))
    invoice = signed.invoice
    assert invoice.number == "2026-000001"
    assert invoice.kind == "signup"
    assert [(line.key, line.amount) for line in invoice.lines] == [
        ("base", 4900), ("seats", 3800), ("addon:sms", 1500)]
    assert (invoice.total, invoice.amount_paid, invoice.credit_applied) == (10200, 10200, 0)
    assert invoice.status == "paid"
    assert [(p.amount, p.status) for p in stored.payments(svc, signed.account.id)] == [
        (10200, "succeeded")]
    assert svc.gateway.total_charged() == 10200
    assert stored.kinds(svc, signed.account.id) == ["signup_confirmation"]


@pytest.mark.sql("it reads the stored account row itself, with SQL")
def test_sign_up_keeps_only_brand_and_last_four_of_the_card(svc) -> None:
    signed = sign_up(svc)

    card = signed.account.card
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2035)
    with svc.database.transaction() as store:
        connection = store.connection
        from sqlalchemy import text

        row = connection.execute(text("SELECT * FROM accounts")).one()._mapping
    assert "4242424242424242" not in " ".join(str(v) for v in row.values())


def test_sign_up_with_a_yearly_plan_charges_the_year(svc) -> None:
    signed = sign_up(svc, config(interval="year"))

    assert signed.invoice.total == 47040  # 49 × 12 × 0.80
    assert signed.subscription.period_end == date(2027, 4, 1)


def test_sign_up_anchor_earlier_in_the_first_period(svc, clock) -> None:
    clock.set(at(2026, 4, 20))
    signed = sign_up(svc, anchor=date(2026, 4, 5))

    assert (signed.subscription.period_start, signed.subscription.period_end) == (
        date(2026, 4, 5), date(2026, 5, 5))
    assert signed.invoice.total == 4900  # the first period in full


@pytest.mark.parametrize("card", [DECLINED_CARD, NO_FUNDS_CARD], ids=["declined", "no_funds"])
def test_a_failed_card_creates_nothing(svc, card) -> None:
    with pytest.raises(PaymentFailed) as failed:
        sign_up(svc, card=card)

    assert failed.value.decline_code in ("declined", "insufficient_funds")
    for table in ("accounts", "users", "subscriptions", "invoices", "payments",
                  "ledger_entries"):
        assert stored.count_rows(svc, table) == 0, table
    assert svc.gateway.total_charged() == 0
    # The email is free again, and the next invoice is still number 1.
    again = sign_up(svc)
    assert again.invoice.number == "2026-000001"


@pytest.mark.parametrize("email", ['"a\\nb"@example.com', '"a\nb"@example.com',
                                   "a\nb@example.com", "ada@example.com\r\nBcc: x@y.example",
                                   "Ada <ada@example.com>", "ada@example"])
def test_an_address_that_is_not_plain_is_refused_for_an_admin(svc, email: str) -> None:
    with pytest.raises(InvalidField) as refused:
        sign_up(svc, email=email)
    assert refused.value.field == "primary_admin.email"
    ada = sign_up(svc).account
    with pytest.raises(InvalidField) as refused:
        accounts.add_user(svc, admin_of(svc, ada.id), ada.id, email, "Someone",
                          "correct horse", role="admin")
    assert refused.value.field == "email"
    assert stored.count_rows(svc, "users") == 1


def test_sign_up_refuses_a_taken_email_and_a_custom_price(svc) -> None:
    sign_up(svc)
    with pytest.raises(InvalidField) as taken:
        sign_up(svc, email="ADA@example.com")
    assert taken.value.field == "primary_admin.email"
    with pytest.raises(InvalidField) as custom:
        sign_up(svc, config(contacts=100_000), email="bob@example.com")
    assert custom.value.field == "subscription"
    assert stored.count_rows(svc, "accounts") == 1


def test_a_sign_up_whose_payment_is_not_settled_holds_its_address(svc) -> None:
    """A sign-up for the address of one whose payment's outcome is not known yet is refused
    before its card is charged: were both charged, the second could never be settled (its
    address taken) and its money would be kept for nothing."""
    bank = BankStillDeciding(svc.gateway)
    deciding = dataclasses.replace(svc, gateway=bank)
    with pytest.raises(PaymentPending):  # 49.00 asked for; the bank has not decided
        sign_up(deciding)

    with pytest.raises(InvalidField) as held:
        sign_up(deciding, email="ADA@example.com")
    assert (held.value.field, held.value.message) == (
        "primary_admin.email", "is used by a sign-up whose payment is not settled yet: wait "
        "for its outcome, then sign in or try again")
    assert svc.gateway.total_charged() == 4900
    assert stored.count_rows(svc, "accounts") == 0

    bank.decide()  # paid: the next sign-up for the address settles it, as reconciliation would
    with pytest.raises(InvalidField, match="already used by another account"):
        sign_up(deciding)
    assert (stored.count_rows(svc, "accounts"), svc.gateway.total_charged()) == (1, 4900)
    assert payments.reconcile(deciding) == 0


def test_a_sign_up_whose_answer_was_lost_is_settled_by_the_next_for_its_address(svc) -> None:
    with pytest.raises(PaymentPending):  # 49.00 taken; the answer was lost
        sign_up(svc, card=TIMEOUT_CARD)

    with pytest.raises(InvalidField, match="already used by another account"):
        sign_up(svc, email="ADA@example.com")
    assert (stored.count_rows(svc, "accounts"), svc.gateway.total_charged()) == (1, 4900)
    assert payments.reconcile(svc) == 0


def test_invoice_numbers_are_sequential_across_accounts(svc) -> None:
    numbers = [sign_up(svc, email=f"user{n}@example.com").invoice.number for n in range(3)]

    assert numbers == ["2026-000001", "2026-000002", "2026-000003"]


def test_new_account_is_entitled_to_its_tier(svc) -> None:
    signed = sign_up(svc, config(addons=("sms",)))

    granted = entitlements(svc, admin_of(svc, signed.account.id), signed.account.id)
    assert granted.features == tuple(sorted({
        "email_marketing", "marketing_automation", "site_tracking", "forms", "landing_pages",
        "lead_scoring", "site_messages", "conditional_automations", "sms"}))
    assert (granted.contacts_limit, granted.seats, granted.restricted) == (1000, 1, False)
    assert [i.number for i in stored.invoices(svc, signed.account.id)] == ["2026-000001"]


def test_sign_up_with_an_older_anchor_bills_the_period_holding_today(svc, clock) -> None:
    clock.set(at(2026, 11, 26))
    signed = sign_up(svc, anchor=date(2026, 1, 31))

    assert signed.subscription.anchor == date(2026, 1, 31)
    assert (signed.subscription.period_start, signed.subscription.period_end) == (
        date(2026, 10, 31), date(2026, 11, 30))
    assert signed.invoice.total == 4900


def test_sign_up_anchor_after_today_is_refused(svc, clock) -> None:
    clock.set(at(2026, 4, 20))
    with pytest.raises(InvalidField) as refused:
        sign_up(svc, anchor=date(2026, 4, 21))
    assert refused.value.field == "anchor"
