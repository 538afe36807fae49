"""SEPA Direct Debit on the Billing & Upgrade page with Stripe (SPEC §9), in Chromium against
localstripe: an account billed in EUR saves a bank account with Stripe's IBAN field on a
SetupIntent for sepa_debit, under the mandate text (EN/IT) with the seller's name; the page
then shows the bank account, and a plan change paid from it applies at once, saying that
the debit is processing while it is. Accounts billed in USD are never offered it.

What is real here: the page, its script, canone's SetupIntent at localstripe (its
payment_method_types), the payment method localstripe makes from the IBAN and canone
saves, and the PaymentIntent of the change. The one fake is Stripe.js's
`confirmSepaDebitSetup`, which localstripe's fake Stripe.js cannot do with an IBAN field:
tests/e2e/fake_confirm_sepa_debit_setup.js, appended to localstripe's script for these
tests only. localstripe settles the debit of DE89370400440532013000 at once, and keeps
that of DE62370400440532013001 processing (about half a second, then it fails; canone
learns of it only from Stripe's event or reconciliation, after these pages).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, Route, expect

from canone.services import accounts

from .axe import assert_accessible
from .conftest import open_dialog, shot, sign_in
from .stripesite import (
    SUPPORT,
    StripeSite,
    account_id_of,
    on_stripe,
    payments_at_stripe,
    stripe_account,
    stripe_page,
    stripe_site,
)

__all__ = ["on_stripe", "stripe_page", "stripe_site"]  # fixtures, used by name

FAKE = Path(__file__).with_name("fake_confirm_sepa_debit_setup.js").read_text()
IBAN_SETTLED, IBAN_PROCESSING = "DE89370400440532013000", "DE62370400440532013001"
MANDATE_EN = (
    "By providing your payment information and confirming this payment, you authorise (A) "
    "{seller} and Stripe, our payment service provider, to send instructions to your bank to "
    "debit your account and (B) your bank to debit your account in accordance with those "
    "instructions. As part of your rights, you are entitled to a refund from your bank under "
    "the terms and conditions of your agreement with your bank. A refund must be claimed "
    "within 8 weeks starting from the date on which your account was debited. Your rights "
    "are explained in a statement that you can obtain from your bank.")
MANDATE_IT = (
    "Fornendo i tuoi dati di pagamento e confermando questo pagamento, autorizzi (A) "
    "{seller} e Stripe, il nostro fornitore di servizi di pagamento, a inviare istruzioni "
    "alla tua banca per addebitare il tuo conto e (B) la tua banca ad addebitare il tuo "
    "conto secondo tali istruzioni. Tra i tuoi diritti c'è quello di ottenere un rimborso "
    "dalla tua banca secondo i termini e le condizioni del tuo contratto con la banca. Il "
    "rimborso va richiesto entro 8 settimane dalla data in cui è stato addebitato il tuo "
    "conto. I tuoi diritti sono illustrati in un documento che puoi ottenere dalla tua "
    "banca.")


def with_fake_sepa_setup(page: Page, site: StripeSite) -> None:
    """localstripe's fake Stripe.js, with the fake confirmSepaDebitSetup appended."""
    def serve(route: Route) -> None:
        original = route.fetch()
        route.fulfill(response=original, body=original.text() + "\n" + FAKE)

    page.route(f"{site.stripe.base}/js.stripe.com/v3/", serve)


def seller_of(site: StripeSite) -> str:
    seller = site.services.seller
    return seller.legal_name if seller is not None else "canone"


def sepa_dialog(page: Page, opener: str) -> Locator:
    dialog = open_dialog(page.get_by_role("button", name=opener))
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("iban-field").locator("input")).not_to_have_count(0)
    return dialog


def save_iban(dialog: Locator, iban: str, save: str) -> None:
    """Type the IBAN into Stripe's field (the fake's first input), as a customer would."""
    dialog.get_by_test_id("iban-field").locator("input[placeholder=number]").fill(iban)
    dialog.get_by_role("button", name=save).click()


def setup_intents_of(site: StripeSite, email: str) -> list[dict[str, object]]:
    with site.services.database.read() as store:
        customer = store.accounts.payment_customer_of(account_id_of(site, email))
    found = site.stripe.http.get("/v1/setup_intents", params={"limit": 100}).json()["data"]
    return [s for s in found if s["customer"] == customer]


def saved_method(site: StripeSite, email: str) -> dict[str, object]:
    """The payment method canone keeps for the account, as localstripe has it."""
    card = accounts.account_of(site.services, SUPPORT, account_id_of(site, email)).card
    assert card is not None and card.brand == "sepa_debit"  # kept as its brand
    method: dict[str, object] = site.stripe.http.get(f"/v1/payment_methods/{card.token}").json()
    return method


def test_accounts_billed_in_usd_are_not_offered_sepa(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    sign_in(stripe_page, stripe_account(on_stripe))
    expect(stripe_page.get_by_test_id("payment-method")).to_have_text("Visa •••• 4242")
    expect(stripe_page.get_by_role("button", name="Pay by SEPA Direct Debit")).to_have_count(0)
    expect(stripe_page.locator("#dlg-sepa")).to_have_count(0)


def test_a_bank_account_saved_with_the_iban_field_pays_an_upgrade(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    page = stripe_page
    with_fake_sepa_setup(page, on_stripe)
    email = stripe_account(on_stripe, currency="EUR")
    sign_in(page, email)
    dialog = sepa_dialog(page, "Pay by SEPA Direct Debit")
    expect(dialog.get_by_test_id("sepa-mandate")).to_have_text(
        MANDATE_EN.format(seller=seller_of(on_stripe)))
    expect(dialog.get_by_label("Account holder")).to_have_value("Acme Inc.")
    expect(dialog.get_by_label("Email")).to_have_value(email)
    shot(page, "en-stripe-sepa-dialog", full_page=False)
    assert_accessible(page, "the SEPA dialog with Stripe's IBAN field", "#dlg-sepa")
    save_iban(dialog, IBAN_SETTLED, "Save bank account")

    expect(page.get_by_test_id("notice")).to_have_text(
        "Your bank account is saved: from now on, payments are made from it by SEPA Direct "
        "Debit.")
    expect(page.get_by_test_id("payment-method")).to_have_text("SEPA Direct Debit •••• 3000")
    (setup,) = setup_intents_of(on_stripe, email)
    assert (setup["payment_method_types"], setup["status"]) == (["sepa_debit"], "succeeded")
    method = saved_method(on_stripe, email)
    assert (method["id"], method["type"]) == (setup["payment_method"], "sepa_debit")
    assert method["billing_details"] == {"name": "Acme Inc.", "email": email}

    open_dialog(page.get_by_role("button", name="Upgrade to Enterprise")).get_by_role(
        "button", name="Upgrade", exact=True).click()
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Enterprise")
    expect(page.get_by_test_id("confirmation")).to_contain_text(
        "total €48.00, paid by SEPA Direct Debit from your account ending 3000.")
    shot(page, "en-stripe-sepa-upgraded")
    assert payments_at_stripe(on_stripe, email) == [(4800, "succeeded"), (4900, "succeeded")]


def test_in_italian_a_change_paid_by_a_debit_processing_applies_at_once(
        stripe_page: Page, on_stripe: StripeSite) -> None:
    page = stripe_page
    with_fake_sepa_setup(page, on_stripe)
    email = stripe_account(on_stripe, locale="it", currency="EUR")
    sign_in(page, email)
    dialog = sepa_dialog(page, "Paga con addebito diretto SEPA")
    expect(dialog.get_by_test_id("sepa-mandate")).to_have_text(
        MANDATE_IT.format(seller=seller_of(on_stripe)))
    shot(page, "it-stripe-sepa-dialog", full_page=False)
    save_iban(dialog, IBAN_PROCESSING, "Salva il conto")
    expect(page.get_by_test_id("payment-method")).to_have_text(
        "Addebito diretto SEPA •••• 3001")

    open_dialog(page.get_by_role("button", name="Esegui l'upgrade a Enterprise")).get_by_role(
        "button", name="Esegui l'upgrade", exact=True).click()
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Enterprise")
    confirmation = page.get_by_test_id("confirmation")
    expect(confirmation).to_contain_text(
        "totale 48,00\u00a0€: l'addebito diretto SEPA di 48,00\u00a0€ sul tuo conto che "
        "termina con 3001 è in corso; richiede fino a 14 giorni lavorativi.")
    expect(page.get_by_test_id("unpaid")).to_have_count(0)  # nothing to pay meanwhile
    shot(page, "it-stripe-sepa-processing")
    page.goto("/billing")  # later, while canone knows of no outcome: still on its way
    expect(page.get_by_test_id("debiting")).to_contain_text(
        "l'addebito diretto SEPA di 48,00 € sul tuo conto che termina con 3001 è in "
        "corso; richiede fino a 14 giorni lavorativi. Nel frattempo non c'è nulla da pagare.")
    expect(page.get_by_test_id("unpaid")).to_have_count(0)
    # One debit for the change, never a second while it is processing.
    assert [amount for amount, _ in payments_at_stripe(on_stripe, email)] == [4800, 4900]
