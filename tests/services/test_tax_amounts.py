"""Worked examples of SPEC §8 on the amounts: each rule's tax on a preview, the quote that
binds it, and the invoice it issues; renewals and sign-up taxed the same way; the gross
credit balance applied like a payment; dates and series in the seller's calendar."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

import stored
from canone.billing.parties import BillingDetails
from canone.services import (
    billing_details,
    change_settlement,
    quotes,
    renewal,
    requests,
    signups,
    subscriptions,
)
from canone.services import payments as payments_service
from canone.services.context import Services
from canone.services.errors import PaymentPending, StaleQuote
from canone.services.payloads import QuoteClaims
from canone.services.ports import ChargeResult
from canone.services.records import PaymentIntent

from .conftest import GOOD_CARD, SUPPORT, TIMEOUT_CARD, admin_of, at, config, sign_up
from .tax_cases import (
    FRENCH_CONSUMER,
    GERMAN_BUSINESS,
    ITALIAN_BUSINESS,
    ITALIAN_CONSUMER,
    US_BUSINESS,
    US_CONSUMER,
)


def _upgrade_quote(svc: Services, clock, details: BillingDetails | None) -> tuple[str, object]:
    """Ada signs up on 1 April 2026 (marketing plus, 1,000 contacts, EUR 49.00) with these
    details, and on 16 April previews enterprise: SPEC §4's 48.00 net."""
    clock.set(at(2026, 4, 1))
    account_id = sign_up(svc, config(currency="EUR")).account.id
    ada = admin_of(svc, account_id)
    if details is not None:
        billing_details.save(svc, ada, account_id, details)
    clock.set(at(2026, 4, 16))
    return account_id, quotes.preview(svc, ada, account_id, config(tier="enterprise",
                                                                  currency="EUR"))


# Each rule of §8 on SPEC §4's 48.00 upgrade: (details, seller OSS, rule, rate, tax, note).
RULES = [
    pytest.param(ITALIAN_BUSINESS, True, "domestic", "22", "10.56", "vat", id="IT business"),
    pytest.param(ITALIAN_CONSUMER, True, "domestic", "22", "10.56", "vat", id="IT consumer"),
    pytest.param(GERMAN_BUSINESS, True, "reverse_charge", "0", "0.00", "reverse_charge_7ter",
                 id="DE business, reverse charge"),
    pytest.param(FRENCH_CONSUMER, True, "oss", "20", "9.60", "vat_oss", id="FR consumer, OSS"),
    pytest.param(FRENCH_CONSUMER, False, "domestic", "22", "10.56", "vat",
                 id="FR consumer, seller without OSS"),
    pytest.param(US_BUSINESS, True, "outside_scope", "0", "0.00", "outside_scope_7ter",
                 id="US business"),
    pytest.param(US_CONSUMER, True, "outside_scope", "0", "0.00", "outside_scope_7octies",
                 id="US consumer"),
    pytest.param(None, True, "domestic", "22", "10.56", "vat", id="no billing details"),
]


@pytest.mark.parametrize(("details", "oss", "rule", "rate", "tax", "note"), RULES)
def test_each_rule_taxes_the_48_upgrade_and_its_invoice(taxed, clock, details, oss, rule, rate,
                                                        tax, note) -> None:
    svc = dataclasses.replace(taxed, seller=dataclasses.replace(taxed.seller, oss=oss))
    account_id, quote = _upgrade_quote(svc, clock, details)

    assert quote.change.due_now == Decimal("48.00")  # §4's net amounts do not change
    treatment = quote.treatment
    assert (treatment.rule, treatment.rate, treatment.note) == (rule, Decimal(rate), note)
    charge = quote.charge
    due = 4800 + int(Decimal(tax) * 100)
    assert (charge.subtotal, charge.tax, charge.total, charge.credit_applied,
            charge.amount_paid) == (4800, int(Decimal(tax) * 100), due, 0, due)

    done = quotes.confirm(svc, admin_of(svc, account_id), account_id, quote.token)

    invoice = done.invoice
    assert (invoice.subtotal, invoice.tax, invoice.total, invoice.amount_paid) == (
        4800, due - 4800, due, due)
    assert [(t.rule, t.rate, t.taxable, t.amount, t.note) for t in invoice.tax_lines] == [
        (rule, Decimal(rate), 4800, due - 4800, note)]
    assert invoice.customer == (None if details is None
                                else billing_details.check_billing_details(details))
    assert invoice.seller == svc.seller and invoice.issued_on == date(2026, 4, 16)
    assert stored.payments(svc, account_id)[-1].amount == due  # the card paid exactly the total


def test_the_worked_example_italian_business_pays_58_56(taxed, clock) -> None:
    account_id, quote = _upgrade_quote(taxed, clock, ITALIAN_BUSINESS)
    assert (quote.charge.tax, quote.charge.total) == (1056, 5856)
    quotes.confirm(taxed, admin_of(taxed, account_id), account_id, quote.token)
    assert taxed.gateway.total_charged() == 5978 + 5856  # sign-up 49.00 + 10.78, then this


def test_without_vies_a_german_business_pays_german_vat_through_oss(taxed, clock) -> None:
    svc = dataclasses.replace(taxed, vies=None)  # its VAT id is never confirmed
    _, quote = _upgrade_quote(svc, clock, GERMAN_BUSINESS)
    assert (quote.treatment.rule, quote.treatment.rate) == ("oss", Decimal("19"))
    assert (quote.charge.tax, quote.charge.total) == (912, 5712)


def test_the_credit_balance_pays_part_of_an_upgrade_like_a_payment(taxed, clock) -> None:
    account_id, _ = _upgrade_quote(taxed, clock, ITALIAN_BUSINESS)
    with taxed.database.transaction() as store:
        account = store.accounts.get(account_id)
        subscriptions.credit(taxed, store, account, 2000, "Goodwill", None)
    ada = admin_of(taxed, account_id)
    quote = quotes.preview(taxed, ada, account_id, config(tier="enterprise", currency="EUR"))

    charge = quote.charge
    assert (charge.subtotal, charge.tax, charge.total) == (4800, 1056, 5856)  # taxable as is
    assert (charge.credit_applied, charge.amount_paid) == (2000, 3856)
    invoice = quotes.confirm(taxed, ada, account_id, quote.token).invoice
    assert (invoice.total, invoice.credit_applied, invoice.amount_paid, invoice.status) == (
        5856, 2000, 3856, "paid")
    assert stored.payments(taxed, account_id)[-1].amount == 3856
    assert stored.ledger(taxed, account_id)[-1].amount == -2000
    assert stored.balance(taxed, account_id) == 0


def test_a_balance_that_covers_the_upgrade_charges_the_card_nothing(taxed, clock) -> None:
    account_id, _ = _upgrade_quote(taxed, clock, ITALIAN_BUSINESS)
    with taxed.database.transaction() as store:
        subscriptions.credit(taxed, store, store.accounts.get(account_id), 10_000, "Goodwill",
                             None)
    ada = admin_of(taxed, account_id)
    quote = quotes.preview(taxed, ada, account_id, config(tier="enterprise", currency="EUR"))
    assert (quote.charge.credit_applied, quote.charge.amount_paid) == (5856, 0)
    charged = taxed.gateway.total_charged()

    invoice = quotes.confirm(taxed, ada, account_id, quote.token).invoice

    assert (invoice.total, invoice.credit_applied, invoice.amount_paid) == (5856, 5856, 0)
    assert taxed.gateway.total_charged() == charged
    assert stored.balance(taxed, account_id) == 10_000 - 5856


def test_a_changed_tax_situation_after_the_preview_refuses_the_confirmation(taxed,
                                                                             clock) -> None:
    account_id, quote = _upgrade_quote(taxed, clock, ITALIAN_BUSINESS)
    ada = admin_of(taxed, account_id)
    billing_details.save(taxed, ada, account_id, GERMAN_BUSINESS)  # now reverse charge
    charged = taxed.gateway.total_charged()

    with pytest.raises(StaleQuote):
        quotes.confirm(taxed, ada, account_id, quote.token)

    assert taxed.gateway.total_charged() == charged
    assert [i.kind for i in stored.invoices(taxed, account_id)] == ["signup"]
    fresh = quotes.preview(taxed, ada, account_id, config(tier="enterprise", currency="EUR"))
    assert fresh.charge.total == 4800


def test_a_changed_balance_after_the_preview_refuses_the_confirmation(taxed, clock) -> None:
    account_id, quote = _upgrade_quote(taxed, clock, ITALIAN_BUSINESS)
    with taxed.database.transaction() as store:
        subscriptions.credit(taxed, store, store.accounts.get(account_id), 500, "Goodwill", None)
    with pytest.raises(StaleQuote):
        quotes.confirm(taxed, admin_of(taxed, account_id), account_id, quote.token)


def test_sign_up_and_renewal_are_taxed_the_same_way(taxed, clock) -> None:
    clock.set(at(2026, 4, 1))
    signed = sign_up(taxed, config(currency="EUR"))
    account_id = signed.account.id
    first = signed.invoice
    assert (first.subtotal, first.tax, first.total, first.amount_paid) == (4900, 1078, 5978,
                                                                            5978)
    billing_details.save(taxed, admin_of(taxed, account_id), account_id, FRENCH_CONSUMER)
    with taxed.database.transaction() as store:
        subscriptions.credit(taxed, store, store.accounts.get(account_id), 1000, "Goodwill",
                             None)

    clock.set(at(2026, 5, 1, 1))
    renewal.run(taxed)

    renewed = stored.invoices(taxed, account_id)[-1]
    assert renewed.kind == "renewal"
    assert [(t.rule, t.rate, t.taxable, t.amount) for t in renewed.tax_lines] == [
        ("oss", Decimal("20"), 4900, 980)]
    assert (renewed.subtotal, renewed.total, renewed.credit_applied, renewed.amount_paid,
            renewed.status) == (4900, 5880, 1000, 4880, "paid")
    assert stored.payments(taxed, account_id)[-1].amount == 4880
    assert renewed.customer.country == "FR"


def test_documents_follow_the_sellers_calendar_not_the_accounts(taxed, clock) -> None:
    """At 16:30 UTC on 31 December it is already 1 January in Tokyo, still 31 December in
    Rome: the invoice is of 2026, dated 31 December. At 23:30 UTC, 1 January in Rome, the
    series of 2027 starts."""
    clock.set(at(2026, 12, 31, 16, 30))
    tokyo = sign_up(taxed, config(currency="EUR"), timezone="Asia/Tokyo").invoice
    assert (tokyo.number, tokyo.issued_on) == ("2026-000001", date(2026, 12, 31))
    assert tokyo.period_start == date(2027, 1, 1)  # the period is the account's

    clock.set(at(2026, 12, 31, 23, 30))
    rome = sign_up(taxed, config(currency="EUR"), email="bea@example.com",
                   timezone="America/Los_Angeles").invoice
    assert (rome.number, rome.issued_on) == ("2027-000001", date(2027, 1, 1))
    assert rome.period_start == date(2026, 12, 31)


def test_without_a_seller_documents_stay_net(svc, clock) -> None:
    """canone used without a seller (SPEC §4's examples): no tax lines, total = subtotal."""
    account_id, quote = _upgrade_quote(svc, clock, None)
    assert quote.treatment is None and quote.charge.total == 4800
    invoice = quotes.confirm(svc, admin_of(svc, account_id), account_id, quote.token).invoice
    assert (invoice.subtotal, invoice.tax_lines, invoice.total) == (4800, (), 4800)


def test_unused_time_is_credited_gross_and_pays_the_next_invoice(taxed, clock) -> None:
    """Support applies plus instead of pro now: 15.00 net of unused time, credited with its
    Italian VAT (18.30), which the renewal's gross total then takes like a payment."""
    clock.set(at(2026, 4, 1))
    signed = sign_up(taxed, config(tier="pro", currency="EUR"))  # 79.00 + 17.38
    ada = admin_of(taxed, signed.account.id)
    billing_details.save(taxed, ada, signed.account.id, ITALIAN_BUSINESS)
    request = requests.create(taxed, ada, signed.account.id, config(currency="EUR"), "",
                              "Plus is enough")
    clock.set(at(2026, 4, 16))

    requests.transition(taxed, SUPPORT, request.id, "completed", "now")

    assert stored.balance(taxed, signed.account.id) == 1830
    clock.set(at(2026, 5, 1, 1))
    renewal.run(taxed)
    renewed = stored.invoices(taxed, signed.account.id)[-1]
    assert (renewed.subtotal, renewed.tax, renewed.total) == (4900, 1078, 5978)  # taxable as is
    assert (renewed.credit_applied, renewed.amount_paid) == (1830, 4148)
    assert stored.balance(taxed, signed.account.id) == 0


def test_sign_up_with_billing_details_takes_their_rule(taxed, clock) -> None:
    """A German business signing up with its VAT id (VIES confirms it): reverse charge on
    the first invoice, which keeps the details it was issued with."""
    clock.set(at(2026, 4, 1))
    signed = signups.sign_up(taxed, signups.SignUp(
        name="Lumen", timezone="Europe/Berlin", locale="en", currency="EUR",
        admin_email="lena@lumen.example", admin_name="Lena Vogel",
        admin_password="correct horse", config=config(currency="EUR"), card=GOOD_CARD,
        billing_details=GERMAN_BUSINESS))

    first = signed.invoice
    assert [(t.rule, t.natura, t.taxable, t.amount) for t in first.tax_lines] == [
        ("reverse_charge", "N2.1", 4900, 0)]
    assert (first.subtotal, first.total, first.amount_paid) == (4900, 4900, 4900)
    assert first.customer is not None and first.customer.vat_id == "DE814937267"
    assert taxed.gateway.total_charged() == 4900


def _untaxed_claims(svc: Services, token: str) -> QuoteClaims:
    """A quote's claims as canone signed them before taxes: without total and credit."""
    return dataclasses.replace(quotes._verify(svc, token), total=None, credit=None)


def test_a_token_quoted_before_taxes_is_stale(taxed, clock) -> None:
    account_id, quote = _upgrade_quote(taxed, clock, ITALIAN_BUSINESS)
    old = quotes._sign(taxed, _untaxed_claims(taxed, quote.token))
    with pytest.raises(StaleQuote):
        quotes.confirm(taxed, admin_of(taxed, account_id), account_id, old)


def test_a_payment_made_before_taxes_settles_as_it_was_quoted(taxed, clock) -> None:
    """An intent written before this version (net amount, no total in its claims) and
    settled after: its invoice is the net one the customer was shown and charged."""
    account_id, quote = _upgrade_quote(taxed, clock, ITALIAN_BUSINESS)
    claims = _untaxed_claims(taxed, quote.token).to_json()
    with taxed.database.transaction() as store:
        account = store.accounts.get(account_id)
        intent = PaymentIntent(key="chg_old", account_id=account_id, purpose="change",
                               amount=4800, currency="EUR", card_token=account.card.token,
                               payload=claims, status="pending", created_at=taxed.now())
        result = change_settlement.CHANGE_SETTLEMENT.complete(taxed, store, intent,
                                                   ChargeResult("succeeded", "ch_old"))
        invoice = store.invoices.get(result.invoice_id)
    assert (invoice.subtotal, invoice.tax_lines, invoice.total, invoice.amount_paid) == (
        4800, (), 4800, 4800)


@pytest.mark.parametrize("before_taxes", [False, True])
def test_a_sign_up_settled_later_is_taxed_as_it_was_charged(taxed, clock,
                                                           before_taxes) -> None:
    """The card network's answer was lost; reconciliation settles the sign-up a minute
    later. Its invoice has the amount charged: taxed, or net for an intent written before
    taxes (no `taxed_at`)."""
    with pytest.raises(PaymentPending):
        sign_up(taxed, config(currency="EUR"), card=TIMEOUT_CARD)
    if before_taxes:
        with taxed.database.transaction() as store:
            [intent] = store.payments.pending_intents(at(2100, 1, 1), 10)
            payload = {k: v for k, v in intent.payload.items() if k != "taxed_at"}
            store.payments.save_intent(intent.but(payload=payload, amount=4900))
    charged = 4900 if before_taxes else 5978

    clock.advance(minutes=1)
    assert payments_service.reconcile(taxed) == 1

    with taxed.database.read() as store:
        ada = store.people.user_by_email("ada@example.com")
    [invoice] = stored.invoices(taxed, ada.account_id)
    assert (invoice.total, invoice.amount_paid) == (charged, charged)
    assert len(invoice.tax_lines) == (0 if before_taxes else 1)
