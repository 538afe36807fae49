"""The Stripe-mode site of the Billing & Upgrade page's e2e tests (SPEC §9): a canone of its
own in Stripe mode whose pages load localstripe's fake Stripe.js (served by localstripe at
/js.stripe.com/v3/, as CANONE_STRIPE_JS_URL allows in test mode), and the helpers its tests
share. Accounts are signed up with a payment method saved at localstripe, as the API takes
them. A test module imports the fixtures it uses by name."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from canone.billing.configuration import Configuration
from canone.db.database import Database
from canone.integrations.payments.stripe import StripeGateway
from canone.services import accounts, signups
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.settings import Settings
from clocks import TestClock
from stripefixtures import TEST_KEY, LocalStripe
from wiring import services_on

from .conftest import ANCHOR, BASE, DESKTOP, PASSWORD, open_dialog, pages_of, run_server

VISA = "4242424242424242"
THREE_D_SECURE = "4000002760003184"  # asks for 3-D Secure on every payment and set-up
REFUSED = "4000000000000002"  # declined when saved
PUBLISHABLE_KEY = "pk_test_canone"


@dataclass
class StripeSite:
    url: str
    services: Services
    clock: TestClock
    stripe: LocalStripe


@pytest.fixture(scope="session")
def stripe_site(tmp_path_factory: pytest.TempPathFactory,
                localstripe: LocalStripe) -> Iterator[StripeSite]:
    folder = tmp_path_factory.mktemp("e2e-stripe")
    database = Database(f"sqlite:///{folder / 'canone.db'}")
    database.migrate()
    clock = TestClock(BASE)
    gateway = StripeGateway(TEST_KEY, api_base=localstripe.base, network_retries=0)
    services = services_on(database, clock, folder / "unused-sandbox.db",
                           secret=secrets.token_hex(16), gateway=gateway)
    settings = Settings(database_url=database.url, test_mode=True, payments="stripe",
                        stripe_secret_key=TEST_KEY, stripe_publishable_key=PUBLISHABLE_KEY,
                        stripe_webhook_secret="whsec_canone_e2e",
                        stripe_api_base=localstripe.base,
                        stripe_js_url=f"{localstripe.base}/js.stripe.com/v3/")
    with run_server(settings, services) as url:
        yield StripeSite(url, services, clock, localstripe)
    database.dispose()


@pytest.fixture
def on_stripe(stripe_site: StripeSite) -> StripeSite:
    stripe_site.clock.instant = BASE
    return stripe_site


@pytest.fixture
def stripe_page(browser, on_stripe: StripeSite):  # type: ignore[no-untyped-def]
    """A desktop page on the Stripe-mode server (CSP reports fail the test, as `page`)."""
    yield from pages_of(browser, on_stripe.url, **DESKTOP)


def stripe_account(site: StripeSite, *, locale: str = "en", currency: str = "USD") -> str:
    """A Marketing Plus account (1,000 contacts, 1 seat, $49.00 a month) signed up with a
    Visa saved at Stripe; the primary admin's email."""
    email = f"ada-{secrets.token_hex(4)}@example.com"
    config = Configuration("marketing", "plus", "month", currency, 1000, 1, ())
    signups.sign_up(site.services, signups.SignUp(
        name="Acme Inc.", timezone="Europe/Rome", locale=locale, currency=currency,
        admin_email=email, admin_name="Ada Lovelace", admin_password=PASSWORD, config=config,
        card=site.stripe.card_method(VISA), anchor=ANCHOR))
    return email


SUPPORT = Actor(STAFF, "staff:e2e@canone.test")


def card_dialog(page: Page) -> Locator:
    dialog = open_dialog(page.locator("aside [data-open=dlg-card]"))
    expect(dialog).to_be_visible()
    return dialog


def enter_card(dialog: Locator, number: str) -> None:
    """Type the card into Stripe's field (the fake's inputs), as a customer would."""
    field = dialog.get_by_test_id("card-field")
    for name, value in (("number", number), ("exp_month", "12"), ("exp_year", "30"),
                        ("cvc", "123"), ("postal_code", "20121")):
        field.locator(f"input[placeholder={name}]").fill(value)


def save_card(page: Page, number: str, save: str = "Save card") -> Locator:
    """Open the card dialog, enter the card and press its button (`save`, in the page's
    language); the dialog."""
    dialog = card_dialog(page)
    enter_card(dialog, number)
    dialog.get_by_role("button", name=save).click()
    return dialog


def bank_challenge(page: Page) -> Locator:
    """The fake Stripe.js's 3-D Secure box (Stripe's would be a frame of the bank's)."""
    button = page.get_by_role("button", name="Complete authentication")
    expect(button).to_be_visible()
    return button


def account_id_of(site: StripeSite, email: str) -> str:
    with site.services.database.read() as store:
        user = store.people.user_by_email(email)
    assert user is not None
    return user.account_id


def saved_card(site: StripeSite, email: str) -> str:
    card = accounts.account_of(site.services, SUPPORT, account_id_of(site, email)).card
    assert card is not None
    return f"{card.brand} {card.last4} {card.exp_month}/{card.exp_year}"


def payments_at_stripe(site: StripeSite, email: str) -> list[tuple[int, str]]:
    """The account's PaymentIntents at localstripe (shared by the tests): amount, status."""
    with site.services.database.read() as store:
        customer = store.accounts.payment_customer_of(account_id_of(site, email))
    return sorted((int(str(pi["amount"])), str(pi["status"]))
                  for pi in site.stripe.payment_intents() if pi["customer"] == customer)


def invoice_totals(site: StripeSite, email: str) -> list[int]:
    with site.services.database.read() as store:
        found = store.invoices.of_account(account_id_of(site, email), 50, None)
    return sorted(inv.total for inv in found)
