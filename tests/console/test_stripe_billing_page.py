"""The Billing & Upgrade page's server side with Stripe (SPEC §9), over HTTP against
localstripe: the page loads Stripe.js under a policy that adds exactly its origin, the card
dialog has no card-number field, the card field's SetupIntent is the account's, and the
payment method Stripe.js made is saved (or refused, with the page's words). With the
sandbox, none of it: the page keeps its 'self'-only policy and the typed card form. A change
under Stripe's minimum charge says so in the dialog; the console's Refund button refunds at
Stripe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

import stored
from canone.db.database import Database
from canone.integrations.payments.stripe import StripeGateway
from canone.services import accounts, renewal, signups
from canone.services.context import Services, new_id
from canone.services.records import Staff
from canone.settings import Settings
from canone.web.app import create_app
from canone.web.page_headers import stripe_policy
from clocks import TestClock
from stripefixtures import TEST_KEY, LocalStripe
from wiring import services_on

from .conftest import ANCHOR, NOW, PASSWORD, STAFF_EMAIL, csrf_of, plan, sign_in

VISA, REFUSED = "4242424242424242", "4000000000000002"
LOCALSTRIPE_POLICY = (
    "default-src 'self'; script-src 'self' {origin}; style-src 'self'; img-src 'self'; "
    "frame-src {origin}; connect-src 'self' {origin}; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'")


@pytest.fixture
def stripe_svc(sqlite_database: Database, stripe_base: str) -> Services:
    return services_on(sqlite_database, TestClock(NOW), "unused-sandbox.db",
                       gateway=StripeGateway(TEST_KEY, api_base=stripe_base,
                                             network_retries=0))


@pytest.fixture
def stripe_client(stripe_svc: Services, stripe_base: str) -> Iterator[TestClient]:
    settings = Settings(database_url="sqlite://", secret_key="test-secret", test_mode=True,
                        payments="stripe", stripe_secret_key=TEST_KEY,
                        stripe_publishable_key="pk_test_page",
                        stripe_webhook_secret="whsec_page", stripe_api_base=stripe_base,
                        stripe_js_url=f"{stripe_base}/js.stripe.com/v3/")
    with TestClient(create_app(settings, stripe_svc), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def ada(stripe_svc: Services, stripe_client: TestClient, localstripe: LocalStripe) -> str:
    """A primary admin, signed in, whose account pays with a Visa saved at Stripe."""
    email = "ada@example.com"
    signups.sign_up(stripe_svc, signups.SignUp(
        name="Acme Inc.", timezone="Europe/Rome", locale="en", currency="USD",
        admin_email=email, admin_name="Ada Lovelace", admin_password=PASSWORD,
        config=plan(tier="plus"), card=localstripe.card_method(VISA), anchor=ANCHOR))
    sign_in(stripe_client, email)
    with stripe_svc.database.read() as store:
        user = store.people.user_by_email(email)
    assert user is not None
    return user.account_id


def card_of(svc: Services, account_id: str) -> str:
    with svc.database.read() as store:
        account = store.accounts.get(account_id)
    assert account is not None and account.card is not None
    return f"{account.card.brand} {account.card.last4}"


def test_the_pages_load_stripe_js_under_a_policy_for_its_origin_alone(
        stripe_client: TestClient, ada: str, stripe_base: str) -> None:
    for path in ("/billing", "/billing?lang=it", "/billing/bundle"):
        answer = stripe_client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-security-policy"] == LOCALSTRIPE_POLICY.format(
            origin=stripe_base)
        assert f'<script src="{stripe_base}/js.stripe.com/v3/" defer></script>' in answer.text
        assert 'data-key="pk_test_page"' in answer.text
        assert "style=" not in answer.text and "<script>" not in answer.text
    page = stripe_client.get("/billing").text
    assert 'name="number"' not in page  # no card number field: Stripe's own field instead
    assert "data-stripe-field" in page


def test_stripe_js_from_stripe_gets_stripes_documented_origins() -> None:
    assert stripe_policy("https://js.stripe.com/v3/") == (
        "default-src 'self'; script-src 'self' https://js.stripe.com https://*.js.stripe.com; "
        "style-src 'self'; img-src 'self'; frame-src https://js.stripe.com "
        "https://*.js.stripe.com https://hooks.stripe.com; connect-src 'self' "
        "https://api.stripe.com; form-action 'self'; base-uri 'none'; object-src 'none'; "
        "frame-ancestors 'none'")


def test_the_card_field_confirms_a_setup_intent_of_the_account(
        stripe_client: TestClient, stripe_svc: Services, ada: str,
        localstripe: LocalStripe) -> None:
    csrf = csrf_of(stripe_client.get("/billing").text)
    answer = stripe_client.post("/billing/card/setup", headers={"X-CSRF-Token": csrf})

    assert answer.status_code == 200
    secret = answer.json()["client_secret"]
    setup_id = re.match(r"(seti_\w+)_secret_", secret)
    assert setup_id is not None
    setup = localstripe.http.get(f"/v1/setup_intents/{setup_id.group(1)}").json()
    with stripe_svc.database.read() as store:
        assert setup["customer"] == store.accounts.payment_customer_of(ada)
    assert (setup["usage"], setup["payment_method_types"]) == ("off_session", ["card"])
    refused = stripe_client.post("/billing/card/setup", headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403


def test_the_payment_method_stripe_js_made_is_saved_and_a_refused_one_is_not(
        stripe_client: TestClient, stripe_svc: Services, ada: str,
        localstripe: LocalStripe) -> None:
    csrf = csrf_of(stripe_client.get("/billing").text)
    refused = stripe_client.post("/billing/card", data={
        "csrf": csrf, "stripe_payment_method": localstripe.card_method(REFUSED)},
        follow_redirects=False)
    assert refused.headers["location"] == "/billing?error=card_declined"
    assert card_of(stripe_svc, ada) == "visa 4242"
    assert "Your card was declined, so it was not saved." in stripe_client.get(
        refused.headers["location"]).text

    typed = stripe_client.post("/billing/card", data={
        "csrf": csrf, "number": VISA, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
        follow_redirects=False)
    assert typed.headers["location"] == "/billing?error=card_invalid"

    saved = stripe_client.post("/billing/card", data={
        "csrf": csrf, "stripe_payment_method": localstripe.card_method("4000056655665556")},
        follow_redirects=False)
    assert saved.headers["location"] == "/billing?done=card_updated"
    assert card_of(stripe_svc, ada) == "visa 5556"


def test_with_the_sandbox_there_is_no_stripe_on_the_page(svc: Services,
                                                          client: TestClient) -> None:
    from .conftest import customer

    sign_in(client, customer(svc).email)
    page = client.get("/billing")
    assert "js.stripe.com" not in page.text and "stripe_pay.js" not in page.text
    assert 'name="number"' in page.text
    setup = client.post("/billing/card/setup", headers={"X-CSRF-Token": csrf_of(page.text)})
    assert setup.status_code == 409
    assert setup.json() == {"error": "That is not possible in the current state of your "
                                     "account."}


def quote_token(http: TestClient, csrf: str, tier: str, currency: str = "USD") -> str:
    fields = {"product": "marketing", "tier": tier, "interval": "month", "currency": currency,
              "contacts": 1000, "seats": 1, "addons": []}
    quote = http.post("/billing/quote", json=fields, headers={"X-CSRF-Token": csrf})
    assert quote.status_code == 200, quote.text
    return str(quote.json()["token"])


def card_asking_for_3_d_secure(http: TestClient, localstripe: LocalStripe) -> str:
    """Save a card that asks for 3-D Secure on every payment; the page's CSRF token."""
    csrf = csrf_of(http.get("/billing").text)
    saved = http.post("/billing/card", follow_redirects=False, data={
        "csrf": csrf, "stripe_payment_method": localstripe.card_method("4000002760003184")})
    assert saved.headers["location"] == "/billing?done=card_updated"
    return csrf


def test_an_upgrade_the_bank_wants_confirmed_answers_the_client_secret_then_applies_once(
        stripe_client: TestClient, stripe_svc: Services, ada: str,
        localstripe: LocalStripe) -> None:
    csrf = card_asking_for_3_d_secure(stripe_client, localstripe)
    form = {"csrf": csrf, "token": quote_token(stripe_client, csrf, "enterprise"),
            "reviewed": "1"}
    as_json = {"Accept": "application/json"}

    first = stripe_client.post("/billing/confirm", data=form, headers=as_json)
    assert first.status_code == 202
    assert first.json()["status"] == "requires_action"
    secret = first.json()["client_secret"]
    (intent,) = [pi for pi in localstripe.payment_intents() if pi["amount"] == 4800]
    assert (intent["status"], secret) == ("requires_action", intent["client_secret"])
    assert stored.subscription(stripe_svc, ada).config.tier == "plus"

    localstripe.authenticate(str(intent["id"]), secret, success=True)
    finished = stripe_client.post("/billing/confirm", data=form, headers=as_json)
    again = stripe_client.post("/billing/confirm", data=form, headers=as_json)

    assert finished.status_code == 200
    assert finished.json()["next"].startswith("/billing?invoice=inv_")
    assert again.json() == finished.json()
    assert stored.subscription(stripe_svc, ada).config.tier == "enterprise"
    with stripe_svc.database.read() as store:
        assert sorted(inv.total for inv in store.invoices.of_account(ada, 10, None)) == [4800, 4900]
    assert len([pi for pi in localstripe.payment_intents() if pi["amount"] == 4800]) == 1


def test_without_script_a_payment_the_bank_wants_confirmed_changes_nothing(
        stripe_client: TestClient, stripe_svc: Services, ada: str,
        localstripe: LocalStripe) -> None:
    csrf = card_asking_for_3_d_secure(stripe_client, localstripe)
    answer = stripe_client.post("/billing/confirm", follow_redirects=False, data={
        "csrf": csrf, "token": quote_token(stripe_client, csrf, "pro"), "reviewed": "1"})

    assert answer.headers["location"] == "/billing?error=requires_action"
    assert "Your bank asks you to confirm this payment" in stripe_client.get(
        answer.headers["location"]).text
    assert stored.subscription(stripe_svc, ada).config.tier == "plus"


CARRIED = {  # SPEC §9: under Stripe's minimum charge, the preview says so (EN and IT)
    "en": "€0.48 is less than the smallest amount a card can be charged: nothing is charged"
          " today, the amount is added to your next invoice, and the change applies at once.",
    "it": "0,48\xa0€ è meno dell'importo minimo addebitabile su una carta: oggi non viene"
          " addebitato nulla, "}


@pytest.mark.parametrize("locale", ["en", "it"])
def test_a_change_under_stripes_minimum_says_so_in_the_dialog_and_charges_nothing(
        stripe_client: TestClient, stripe_svc: Services, localstripe: LocalStripe,
        locale: str) -> None:
    email = f"{locale}@example.com"
    account_id = signups.sign_up(stripe_svc, signups.SignUp(
        name="Acme Inc.", timezone="Europe/Rome", locale=locale, currency="EUR",
        admin_email=email, admin_name="Ada Lovelace", admin_password=PASSWORD,
        config=plan(tier="plus", currency="EUR"), card=localstripe.card_method(VISA),
        anchor=ANCHOR)).account.id
    clock = stripe_svc.clock
    assert isinstance(clock, TestClock)
    clock.instant = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    renewal.run(stripe_svc)
    # The last day of May's 31 days: the SMS add-on (15.00 a month) costs 15 / 31 = 0.48.
    clock.instant = datetime(2026, 5, 31, 8, 0, tzinfo=UTC)
    sign_in(stripe_client, email)
    csrf = csrf_of(stripe_client.get("/billing").text)
    fields = {"product": "marketing", "tier": "plus", "interval": "month", "currency": "EUR",
              "contacts": 1000, "seats": 1, "addons": ["sms"]}
    quote = stripe_client.post("/billing/quote", json=fields, headers={"X-CSRF-Token": csrf})
    assert quote.status_code == 200, quote.text
    assert CARRIED[locale] in quote.json()["parts"]["review"]
    charged = len(localstripe.payment_intents())

    done = stripe_client.post("/billing/confirm", follow_redirects=False, data={
        "csrf": csrf, "token": quote.json()["token"], "reviewed": "1"})
    assert done.status_code == 303, done.text
    assert stored.subscription(stripe_svc, account_id).config.addons == ("sms",)
    assert len(localstripe.payment_intents()) == charged  # nothing charged today
    assert stored.balance(stripe_svc, account_id) == -48  # on the next invoice


def test_staffs_refund_button_refunds_through_stripe(
        stripe_client: TestClient, stripe_svc: Services, ada: str,
        localstripe: LocalStripe) -> None:
    """SPEC §9: the console's Refund button refunds at Stripe, in part, never beyond what
    was paid (the sandbox side of the button: test_console_refunds.py)."""
    with stripe_svc.database.transaction() as store:
        store.people.add_staff(Staff(new_id("stf"), STAFF_EMAIL, "Sam Support",
                                     accounts.hash_password(PASSWORD)))
    sign_in(stripe_client, STAFF_EMAIL)
    ((invoice_id, paid),) = [(i.id, i.amount_paid) for i in stored.invoices(stripe_svc, ada)]
    (charge,) = localstripe.payment_intents()
    page = stripe_client.get(f"/console/accounts/{ada}").text

    done = stripe_client.post(f"/console/invoices/{invoice_id}/refund", follow_redirects=False,
                              data={"csrf": csrf_of(page), "amount": "10.00"})
    too_much = stripe_client.post(f"/console/invoices/{invoice_id}/refund",
                                  data={"csrf": csrf_of(page), "amount": "40.00"})

    assert (done.status_code, too_much.status_code, paid) == (303, 422, 4900)
    refunds = localstripe.http.get("/v1/refunds", params={"limit": 100}).json()["data"]
    assert [(r["amount"], r["status"], r["payment_intent"]) for r in refunds] == [
        (1000, "succeeded", charge["id"])]
    assert stored.invoices(stripe_svc, ada)[0].status == "partially_refunded"
