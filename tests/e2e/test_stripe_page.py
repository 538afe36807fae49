"""The Billing & Upgrade page with Stripe (SPEC §9), in Chromium against localstripe and
its fake Stripe.js: the card is entered in Stripe's field and saved through a SetupIntent
(canone gets a payment method, never a number), a card Stripe refuses says so in the
page's language, and an upgrade paid with a card that asks for 3-D Secure passes the
bank's challenge in the same dialog and applies once.

The server is a canone of its own in Stripe mode whose pages load localstripe's fake
Stripe.js (served by localstripe at /js.stripe.com/v3/, as CANONE_STRIPE_JS_URL allows in
test mode); accounts are signed up with a payment method saved at localstripe, as the API
takes them.

localstripe's fake Stripe.js stands in for Stripe's frames with plain inputs (placeholders
number, exp_month, exp_year, cvc, postal_code) and for the bank's challenge with a box of
two buttons, "Complete authentication" and "Fail authentication"; its confirmCardPayment
finishes the challenge with localstripe's `_authenticate` route.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from canone.billing.configuration import Configuration
from canone.services import renewal, requests

from .axe import assert_accessible
from .conftest import open_dialog, shot, sign_in
from .stripesite import (
    REFUSED,
    SUPPORT,
    THREE_D_SECURE,
    StripeSite,
    account_id_of,
    bank_challenge,
    invoice_totals,
    on_stripe,
    payments_at_stripe,
    save_card,
    saved_card,
    stripe_account,
    stripe_page,
    stripe_site,
)

__all__ = ["on_stripe", "stripe_page", "stripe_site"]  # fixtures, used by name


def test_a_refused_card_is_not_saved_and_says_why_in_english_and_italian(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    page = stripe_page
    email = stripe_account(on_stripe)
    sign_in(page, email)
    dialog = save_card(page, REFUSED)

    expect(dialog.get_by_test_id("card-error")).to_have_text(
        "Your card was declined, so it was not saved. Your card on file is unchanged. "
        "Try another card.")
    expect(dialog.get_by_role("button", name="Save card")).to_be_enabled()
    shot(page, "en-stripe-card-refused", full_page=False)
    assert_accessible(page, "the card dialog with Stripe's field", "#dlg-card")
    assert saved_card(on_stripe, email) == "visa 4242 12/2030"

    page.goto("/billing?lang=it")
    dialog = save_card(page, REFUSED, "Salva carta")
    expect(dialog.get_by_test_id("card-error")).to_have_text(
        "La carta è stata rifiutata e non è stata salvata. La carta registrata resta quella "
        "di prima. Prova con un'altra carta.")
    shot(page, "it-stripe-card-refused", full_page=False)
    assert saved_card(on_stripe, email) == "visa 4242 12/2030"


def add_card_through_the_banks_challenge(page: Page, number: str, save: str = "Save card"
                                         ) -> None:
    save_card(page, number, save)
    bank_challenge(page).click()  # saving a card for later asks the bank once
    expect(page.locator("aside")).to_contain_text(f"•••• {number[-4:]}")  # saved, back


def signed_in_with_a_3_d_secure_card(page: Page, site: StripeSite) -> str:
    """A new account's primary admin, signed in, who has saved a card that asks for 3-D
    Secure on every payment; their email."""
    email = stripe_account(site)
    sign_in(page, email)
    add_card_through_the_banks_challenge(page, THREE_D_SECURE)
    return email


def test_a_card_added_with_elements_pays_an_upgrade_after_3_d_secure(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    page = stripe_page
    email = signed_in_with_a_3_d_secure_card(page, on_stripe)
    expect(page.get_by_test_id("notice")).to_have_text("Your card was updated.")
    expect(page.locator("aside")).to_contain_text("Visa •••• 3184")
    assert saved_card(on_stripe, email) == "visa 3184 12/2030"

    dialog = open_dialog(page.get_by_role("button", name="Upgrade to Enterprise"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$48.00")
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    challenge = bank_challenge(page)
    expect(dialog).to_be_visible()  # the same dialog, under the bank's challenge
    expect(dialog.get_by_role("button", name="Cancel")).to_be_disabled()
    expect(dialog.get_by_test_id("payment-status")).to_have_text(
        "Your bank asks you to confirm this payment. Follow the steps in the window that "
        "opens.")
    shot(page, "en-stripe-3ds-challenge", full_page=False)
    assert_accessible(page, "the upgrade dialog under the bank's challenge", "#dlg-tier")
    challenge.click()

    expect(page.get_by_test_id("confirmation")).to_contain_text("total $48.00")
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Enterprise")
    shot(page, "en-stripe-3ds-upgraded")
    assert payments_at_stripe(on_stripe, email) == [(4800, "succeeded"), (4900, "succeeded")]
    assert invoice_totals(on_stripe, email) == [4800, 4900]


def test_in_italian_the_challenge_failed_changes_nothing_then_passed_upgrades(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    page = stripe_page
    email = stripe_account(on_stripe, locale="it", currency="EUR")
    sign_in(page, email)
    add_card_through_the_banks_challenge(page, THREE_D_SECURE, "Salva carta")
    expect(page.get_by_test_id("notice")).to_have_text("La tua carta è stata aggiornata.")

    page.get_by_role("button", name="Esegui l'upgrade a Enterprise").click()
    tier = page.locator("#dlg-tier")
    expect(tier.get_by_test_id("review-due-today")).to_have_text("48,00\u00a0€")
    tier.get_by_role("button", name="Esegui l'upgrade", exact=True).click()
    page.get_by_role("button", name="Fail authentication").click()
    # Its own words, not a declined card's (Stripe: payment_intent_authentication_failure).
    expect(page.get_by_test_id("error")).to_contain_text(
        "La banca non ha potuto autenticare questo pagamento; non è stato addebitato nulla. "
        "Riprova o usa un'altra carta.")
    shot(page, "it-stripe-3ds-failed", full_page=False)
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Plus")
    assert invoice_totals(on_stripe, email) == [4900]

    page.get_by_role("button", name="Esegui l'upgrade a Enterprise").click()
    tier.get_by_role("button", name="Esegui l'upgrade", exact=True).click()
    shot(page, "it-stripe-3ds-challenge", full_page=False)
    bank_challenge(page).click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("48,00\u00a0€")
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Enterprise")
    shot(page, "it-stripe-3ds-upgraded")
    assert invoice_totals(on_stripe, email) == [4800, 4900]


def test_the_bundle_page_passes_the_banks_challenge_too(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    page = stripe_page
    email = signed_in_with_a_3_d_secure_card(page, on_stripe)
    page.get_by_test_id("bundle-offer").get_by_role("link").click()
    summary = page.locator("[data-quote-part=summary]").first
    expect(summary.get_by_test_id("due-today")).to_have_text("$22.00")
    dialog = open_dialog(page.get_by_role("button", name="Update my plan"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$22.00")
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    bank_challenge(page).click()

    expect(page.get_by_test_id("confirmation")).to_contain_text("total $22.00")
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing + Sales Plus")
    assert invoice_totals(on_stripe, email) == [2200, 4900]


def test_a_renewal_the_bank_wants_authenticated_is_paid_on_the_page(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    """Off-session, Stripe refuses the renewal of a card whose bank wants 3-D Secure
    (localstripe as patched by tests/localstripe_server.py); the primary admin pays it on
    the page: the bank's challenge, then the invoice is paid once."""
    page = stripe_page
    email = signed_in_with_a_3_d_secure_card(page, on_stripe)
    on_stripe.clock.instant = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    renewal.run(on_stripe.services)
    page.goto("/billing")
    expect(page.get_by_test_id("unpaid-invoice")).to_contain_text("$49.00 to pay")

    page.get_by_role("button", name="Pay $49.00 now").click()
    bank_challenge(page).click()

    expect(page.get_by_test_id("notice")).to_have_text("Thank you, the invoice is paid.")
    expect(page.get_by_test_id("unpaid")).to_have_count(0)
    shot(page, "en-stripe-3ds-pay-now", full_page=False)
    # The sign-up's, the renewal refused off-session, and the renewal paid on the page.
    assert payments_at_stripe(on_stripe, email) == [
        (4900, "requires_payment_method"), (4900, "succeeded"), (4900, "succeeded")]
    with on_stripe.services.database.read() as store:
        found = store.invoices.of_account(account_id_of(on_stripe, email), 50, None)
    assert sorted((inv.total, inv.status) for inv in found) == [(4900, "paid"), (4900, "paid")]


@pytest.mark.parametrize(("locale", "currency", "upgrade", "confirm", "refunded"), [
    ("en", "USD", "Upgrade to Enterprise", "Upgrade",
     "The price changed before the payment finished, so your plan did not change. We "
     "refunded the payment to your card; it can take 5–10 days to show. Please review the "
     "change again."),
    ("it", "EUR", "Esegui l'upgrade a Enterprise", "Esegui l'upgrade",
     "Il prezzo è cambiato prima che il pagamento fosse completato, quindi il tuo piano non è "
     "cambiato. Ti abbiamo rimborsato il pagamento sulla carta; possono volerci 5–10 giorni "
     "perché compaia. Controlla di nuovo la modifica."),
])
def test_a_challenge_passed_after_the_quote_went_stale_is_refunded_and_says_so(
        stripe_page: Page, on_stripe: StripeSite, locale: str, currency: str, upgrade: str,
        confirm: str, refunded: str) -> None:
    """Support applies another change while the bank's window is open (SPEC §9): the
    customer passes the challenge, the upgrade is not applied, and the 48.00 taken is
    refunded at Stripe, once; the page says so in the account's language."""
    page = stripe_page
    email = stripe_account(on_stripe, locale=locale, currency=currency)
    sign_in(page, email)
    add_card_through_the_banks_challenge(page, THREE_D_SECURE,
                                         "Salva carta" if locale == "it" else "Save card")
    open_dialog(page.get_by_role("button", name=upgrade)).get_by_role(
        "button", name=confirm, exact=True).click()
    challenge = bank_challenge(page)
    account_id = account_id_of(on_stripe, email)
    request = requests.create(on_stripe.services, SUPPORT, account_id,
                              Configuration("marketing", "starter", "month", currency, 1000,
                                            1, ()), "", "Starter, now")
    requests.transition(on_stripe.services, SUPPORT, request.id, "completed", "now")
    challenge.click()

    expect(page.get_by_test_id("error")).to_have_text(refunded)
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Starter")
    shot(page, f"{locale}-stripe-3ds-stale-refunded", full_page=False)
    assert payments_at_stripe(on_stripe, email) == [(4800, "succeeded"), (4900, "succeeded")]
    refunds = on_stripe.stripe.http.get("/v1/refunds", params={"limit": 100}).json()["data"]
    (upgrade_intent,) = [pi for pi in on_stripe.stripe.payment_intents()
                         if pi["amount"] == 4800 and pi["customer"] == customer_of(
                             on_stripe, email)]
    assert [r["amount"] for r in refunds if r["payment_intent"] == upgrade_intent["id"]] == [4800]
    assert invoice_totals(on_stripe, email) == [4800, 4900]


def customer_of(site: StripeSite, email: str) -> str | None:
    with site.services.database.read() as store:
        return store.accounts.payment_customer_of(account_id_of(site, email))
