"""SEPA Direct Debit on the Billing & Upgrade page's server side with Stripe (SPEC §9), over
HTTP against localstripe: the IBAN field's SetupIntent is for sepa_debit alone and only for
accounts billed in EUR; the saved bank account is named on the page; a change paid by a
debit still processing (localstripe's DE62370400440532013001) applies at once and the page
says the debit is on its way instead of asking to pay the invoice."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

import stored
from canone.services import accounts, renewal, requests, signups
from canone.services.context import Services
from canone.services.ports import ChargeRequest, ChargeResult
from canone.services.records import PAST_DUE
from clocks import TestClock
from stripefixtures import LocalStripe

from .conftest import ANCHOR, PASSWORD, STAFF_EMAIL, SUPPORT, csrf_of, plan, sign_in, with_staff
from .test_stripe_billing_page import ada, quote_token, stripe_client, stripe_svc

__all__ = ["ada", "stripe_client", "stripe_svc"]  # fixtures, used by name

IBAN_PROCESSING = "DE62370400440532013001"
DECLINED_WHEN_CHARGED = "4000000000000341"


def setup_types(http: TestClient, localstripe: LocalStripe, kind: str) -> object:
    csrf = csrf_of(http.get("/billing").text)
    answer = http.post(f"/billing/card/setup?kind={kind}", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    setup_id = re.match(r"(seti_\w+)_secret_", answer.json()["client_secret"])
    assert setup_id is not None
    return localstripe.http.get(f"/v1/setup_intents/{setup_id.group(1)}").json()[
        "payment_method_types"]


def test_an_account_billed_in_usd_gets_no_sepa_setup_intent(
        stripe_client: TestClient, ada: str) -> None:
    page = stripe_client.get("/billing").text
    assert 'id="dlg-sepa"' not in page and "Pay by SEPA Direct Debit" not in page
    for kind in ("sepa_debit", "ideal"):
        refused = stripe_client.post(f"/billing/card/setup?kind={kind}",
                                     headers={"X-CSRF-Token": csrf_of(page)})
        assert (refused.status_code, refused.json()) == (422, {
            "error": "That is not possible in the current state of your account."})


def eur_admin(http: TestClient, svc: Services, localstripe: LocalStripe) -> str:
    """A primary admin, signed in, of an account billed in EUR that pays with a Visa; the
    account's id."""
    email = "bea@example.com"
    account = signups.sign_up(svc, signups.SignUp(
        name="Officina Verde", timezone="Europe/Rome", locale="en", currency="EUR",
        admin_email=email, admin_name="Bea Rossi", admin_password=PASSWORD,
        config=plan(tier="plus", currency="EUR"), card=localstripe.card_method("4242" * 4),
        anchor=ANCHOR)).account
    sign_in(http, email)
    return account.id


def debits_from_a_bank_account(http: TestClient, localstripe: LocalStripe) -> str:
    """The signed-in admin saves a bank account whose debits stay processing; the page's
    CSRF token."""
    csrf = csrf_of(http.get("/billing").text)
    saved = http.post("/billing/card", follow_redirects=False, data={
        "csrf": csrf, "stripe_payment_method": localstripe.sepa_method(IBAN_PROCESSING)})
    assert saved.headers["location"] == "/billing?done=bank_account_saved"
    return csrf


def test_a_change_paid_by_a_debit_processing_applies_and_the_page_says_it_is_on_its_way(
        stripe_client: TestClient, stripe_svc: Services, localstripe: LocalStripe) -> None:
    account_id = eur_admin(stripe_client, stripe_svc, localstripe)
    assert setup_types(stripe_client, localstripe, "sepa_debit") == ["sepa_debit"]
    assert setup_types(stripe_client, localstripe, "card") == ["card"]
    csrf = debits_from_a_bank_account(stripe_client, localstripe)
    done = stripe_client.post("/billing/confirm", follow_redirects=False, data={
        "csrf": csrf, "token": quote_token(stripe_client, csrf, "enterprise", "EUR"),
        "reviewed": "1"})
    assert stored.subscription(stripe_svc, account_id).config.tier == "enterprise"
    confirmed = stripe_client.get(done.headers["location"]).text
    assert re.search(r"Invoice 2026-\d+, total €48.00: the SEPA Direct Debit of €48.00 from "
                     r"your account ending 3001 is being processed; it takes up to 14 "
                     r"business days.", confirmed)
    later = stripe_client.get("/billing").text
    assert "SEPA Direct Debit •••• 3001" in later
    assert "is being processed; it takes up to 14 business days. There is nothing to pay " \
           "meanwhile." in later
    assert "Debit processing" in later
    assert 'data-testid="unpaid"' not in later and "/pay" not in later
    with_staff(stripe_svc)
    sign_in(stripe_client, STAFF_EMAIL)  # staff see the bank account by name, no expiry
    console = stripe_client.get(f"/console/accounts/{account_id}").text
    assert "SEPA Direct Debit •••• 3001</dd>" in console and "Sepa_debit" not in console


def test_a_bank_account_saved_while_restricted_debits_what_is_owed_and_says_so(
        stripe_client: TestClient, stripe_svc: Services, localstripe: LocalStripe) -> None:
    account_id = eur_admin(stripe_client, stripe_svc, localstripe)
    accounts.update_card(stripe_svc, SUPPORT, account_id,
                         localstripe.card_method(DECLINED_WHEN_CHARGED))
    clock = stripe_svc.clock
    assert isinstance(clock, TestClock)
    for day in (1, 3, 5, 7):  # the renewal and its three retries fail: restricted
        clock.instant = datetime(2026, 5, day, 8, 0, tzinfo=UTC)
        renewal.run(stripe_svc)
    assert stored.account(stripe_svc, account_id).status == PAST_DUE

    csrf = csrf_of(stripe_client.get("/billing").text)
    saved = stripe_client.post("/billing/card", follow_redirects=False, data={
        "csrf": csrf, "stripe_payment_method": localstripe.sepa_method(IBAN_PROCESSING)})
    assert saved.headers["location"] == "/billing?done=bank_account_saved"
    page = stripe_client.get(saved.headers["location"]).text
    assert "Your bank account is saved" in page
    assert "is being processed; it takes up to 14 business days." in page
    assert "/pay" not in page  # the debit is its payment: nothing to pay twice
    assert "The restriction is lifted once the SEPA Direct Debit has succeeded." in page


def test_a_debit_whose_quote_went_stale_before_the_mandate_says_the_change_was_not_applied(
        stripe_client: TestClient, stripe_svc: Services, localstripe: LocalStripe,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Support moves the account to starter right after the upgrade's debit is confirmed,
    before the change could apply on the mandate (SPEC §9): the page does not say the plan
    changes once the payment is confirmed, but that it was not applied and a completed debit
    is refunded."""
    account_id = eur_admin(stripe_client, stripe_svc, localstripe)
    csrf = debits_from_a_bank_account(stripe_client, localstripe)
    token = quote_token(stripe_client, csrf, "enterprise", "EUR")
    confirm_charge = stripe_svc.gateway.confirm_charge

    def overtaken(provider_id: str, request: ChargeRequest) -> ChargeResult:
        outcome = confirm_charge(provider_id, request)
        made = requests.create(stripe_svc, SUPPORT, account_id,
                               plan(tier="starter", currency="EUR"), "Budget", "")
        requests.transition(stripe_svc, SUPPORT, made.id, "completed", effective="now")
        return outcome

    monkeypatch.setattr(stripe_svc.gateway, "confirm_charge", overtaken)
    done = stripe_client.post("/billing/confirm", follow_redirects=False, data={
        "csrf": csrf, "token": token, "reviewed": "1"})
    assert done.headers["location"] == "/billing?error=stale_quote_debit"
    assert stored.subscription(stripe_svc, account_id).config.tier == "starter"
    assert ("Your plan changed while this payment was being set up, so this change was not "
            "applied. If your bank completes the debit, we refund it in full; you will "
            "receive an email.") in stripe_client.get(done.headers["location"]).text
    italian = stripe_client.get(done.headers["location"] + "&lang=it").text
    assert ("Il tuo piano è cambiato mentre questo pagamento veniva predisposto, quindi questa "
            "modifica non è stata applicata. Se la tua banca completa l&#39;addebito, te lo "
            "rimborsiamo per intero; riceverai un&#39;email.") in italian
