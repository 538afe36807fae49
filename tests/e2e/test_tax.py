"""SPEC §8 in the browser: a primary admin fills in the billing details (a wrong VAT id
first: the field's error in English and Italian), then upgrades and sees "Due today" as the
total with its net and tax parts before confirming; the invoice charged is that total."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from canone.services import subscriptions

from .axe import assert_accessible
from .conftest import Server, _without_csp_violations, open_dialog, seed, shot, sign_in
from .test_billing_details import GOOD_VAT, WRONG_VAT, _fill_by_name


@pytest.fixture
def taxed_page(browser, taxed_server: Server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=taxed_server.url,
                                  viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    yield from _without_csp_violations(context)


def test_billing_details_then_an_upgrade_shows_tax_and_total(taxed_page: Page,
                                                            taxed_server: Server) -> None:
    page = taxed_page
    account = seed(taxed_server, currency="EUR")
    sign_in(page, account.email)
    page.goto("/billing/details")
    form = page.get_by_test_id("details-form")

    _fill_by_name(page, WRONG_VAT)
    form.get_by_role("button", name="Save billing details").click()
    expect(page.get_by_test_id("error-vat_id")).to_have_text(
        "This VAT number is not valid: check its digits and its country.")
    shot(page, "en-tax-wrong-vat")

    page.get_by_role("link", name="IT – Italiano").click()
    _fill_by_name(page, WRONG_VAT)
    form.get_by_role("button", name="Salva i dati di fatturazione").click()
    expect(page.get_by_test_id("error-vat_id")).to_have_text(
        "La partita IVA non è valida: controlla le cifre e il paese.")
    shot(page, "it-tax-wrong-vat")

    form.locator("input[name='vat_id']").fill(GOOD_VAT)
    form.get_by_role("button", name="Salva i dati di fatturazione").click()
    expect(page.get_by_test_id("billing-details")).to_contain_text("IT00743110157")

    # In Italian: the upgrade's total with its net and its Italian VAT.
    dialog = open_dialog(page.get_by_role("button", name="Esegui l'upgrade a Enterprise"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("58,56 €")
    expect(dialog.get_by_test_id("review-net")).to_have_text("48,00 €")
    expect(dialog.get_by_test_id("review-tax")).to_have_text("10,56 €")
    expect(dialog.locator(".quote-part dt")).to_have_text(["Imponibile", "IVA 22 %"])
    expect(dialog.get_by_test_id("review-future-price")).to_have_text("145,00 €")
    expect(dialog.get_by_test_id("review-future-tax")).to_have_text("+ IVA 22 %")
    shot(page, "it-tax-upgrade-review", full_page=False)
    assert_accessible(page, "upgrade review with tax (it)")
    page.keyboard.press("Escape")

    # In English, the same, then bought: the card is charged the total shown.
    page.get_by_role("link", name="EN – English").click()
    page.get_by_role("button", name="Upgrade to Enterprise").click()
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("€58.56")
    expect(dialog.locator(".quote-part dt")).to_have_text(["Net", "VAT 22 %"])
    expect(dialog.get_by_test_id("review-tax")).to_have_text("€10.56")
    shot(page, "en-tax-upgrade-review", full_page=False)
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("€58.56")
    with taxed_server.services.database.read() as store:
        bought = next(i for i in store.invoices.of_account(account.account_id, 10, None)
                      if i.kind == "upgrade")
    assert (bought.subtotal, bought.tax, bought.total, bought.amount_paid) == (
        4800, 1056, 5856, 5856)
    assert bought.customer is not None and bought.customer.vat_id == "IT00743110157"


def test_the_credit_balance_shows_as_paid_and_the_card_pays_the_rest(
        taxed_page: Page, taxed_server: Server) -> None:
    page = taxed_page
    svc = taxed_server.services
    account = seed(taxed_server, currency="EUR")  # no billing details: Italian VAT
    with svc.database.transaction() as store:
        subscriptions.credit(svc, store, store.accounts.get(account.account_id), 2000,
                             "Goodwill", None)
    sign_in(page, account.email)
    dialog = open_dialog(page.get_by_role("button", name="Upgrade to Enterprise"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("€58.56")
    expect(dialog.get_by_test_id("review-balance")).to_have_text("-€20.00")
    expect(dialog.get_by_test_id("review-charged")).to_have_text("€38.56")
    shot(page, "en-tax-upgrade-with-credit", full_page=False)
    charged = taxed_server.gateway.total_charged()
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Enterprise")
    assert taxed_server.gateway.total_charged() - charged == 3856
