"""The "Billing details" section of the Billing & Upgrade page (SPEC §8): the primary admin
fills them in (a wrong VAT id first: the field's error in English and Italian), other
admins see them read-only with whom to ask."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from canone.billing.parties import Address, BillingDetails
from canone.services import accounts, billing_details
from canone.services.access import SYSTEM_ACTOR, Actor
from canone.services.records import ADMIN

from .axe import assert_accessible
from .conftest import PASSWORD, Server, seed, shot, sign_in, signed_in

WRONG_VAT = "IT00743110158"  # the last digit breaks the partita IVA's checksum
GOOD_VAT = "00743110157"


def _fill_italian_business(page: Page, vat_id: str) -> None:
    form = page.get_by_test_id("details-form")
    form.get_by_label("A business").check()
    form.get_by_label("Country").select_option("IT")
    form.get_by_label("Legal name").fill("Rossi Software S.r.l.")
    form.get_by_label("Street and number").fill("Via Dante 12")
    form.get_by_label("Postcode").fill("20121")
    form.get_by_label("City").fill("Milano")
    form.get_by_label("Province or region").fill("mi")
    form.get_by_label("VAT number").fill(vat_id)


def test_the_primary_admin_corrects_a_wrong_vat_id_and_saves(page: Page,
                                                              server: Server) -> None:
    account = signed_in(page, seed(server))
    section = page.get_by_test_id("billing-details")
    expect(section.get_by_test_id("no-details")).to_have_text(
        "None yet: your invoices show only the account's name.")
    shot(page, "en-billing-details-none-yet")
    section.get_by_role("link", name="Add billing details").click()
    expect(page.get_by_role("heading", name="Billing details", exact=True)).to_be_visible()
    form = page.get_by_test_id("details-form")
    # An Italian business: no codice fiscale needed, SDI code and PEC offered.
    _fill_italian_business(page, WRONG_VAT)
    expect(form.get_by_label("SDI recipient code")).to_be_visible()
    expect(form.get_by_label("VAT number")).to_have_attribute(
        "aria-required", "true")
    form.get_by_role("button", name="Save billing details").click()

    vat = form.get_by_label("VAT number")
    expect(page.get_by_test_id("error-vat_id")).to_have_text(
        "This VAT number is not valid: check its digits and its country.")
    expect(vat).to_have_attribute("aria-invalid", "true")
    expect(vat).to_have_attribute("aria-describedby", "bd-vat_id-hint bd-vat_id-error")
    expect(vat).to_have_value(WRONG_VAT)  # what was typed comes back
    expect(form.get_by_label("City")).to_have_value("Milano")
    expect(form.get_by_label("City")).not_to_have_attribute("aria-invalid", "true")
    summary = page.get_by_test_id("error")
    expect(summary.locator("strong")).to_have_text("1 field needs your attention.")
    expect(summary).to_be_focused()  # announced; the next Tab reaches its link
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(vat).to_be_focused()
    shot(page, "en-billing-details-error")
    assert_accessible(page, "billing details form with an error (en)")

    # The same mistake in Italian: the partita IVA is not valid.
    page.get_by_role("link", name="IT – Italiano").click()  # a fresh form: nothing saved
    _fill_by_name(page, WRONG_VAT)
    form.get_by_role("button", name="Salva i dati di fatturazione").click()
    expect(page.get_by_test_id("error-vat_id")).to_have_text(
        "La partita IVA non è valida: controlla le cifre e il paese.")
    expect(form.get_by_label("Partita IVA")).to_have_attribute("aria-invalid", "true")
    shot(page, "it-billing-details-error")
    assert_accessible(page, "billing details form with an error (it)")

    form.get_by_label("Partita IVA").fill(GOOD_VAT)
    form.get_by_label("Codice destinatario SDI").fill("m5uxcr1")
    form.get_by_role("button", name="Salva i dati di fatturazione").click()
    expect(page.get_by_test_id("notice")).to_have_text(
        "I dati di fatturazione sono salvati. Valgono per i documenti emessi da ora in poi.")
    section = page.get_by_test_id("billing-details")
    expect(section).to_contain_text("Rossi Software S.r.l.")
    expect(section).to_contain_text("Via Dante 12, 20121 Milano (MI), Italia")
    expect(section).to_contain_text("IT00743110157")
    expect(section).to_contain_text("M5UXCR1")
    shot(page, "it-billing-details-saved")
    saved = billing_details.get(server.services, SYSTEM_ACTOR, account.account_id)
    assert saved.details == BillingDetails(
        "business", "Rossi Software S.r.l.",
        Address("Via Dante 12", "20121", "Milano", "MI", "IT"), "IT00743110157", None,
        "M5UXCR1", None)


def _fill_by_name(page: Page, vat_id: str) -> None:
    form = page.get_by_test_id("details-form")
    form.locator("input[name=kind][value=business]").check()
    form.locator("select[name='address.country']").select_option("IT")
    for name, value in (("legal_name", "Rossi Software S.r.l."),
                        ("address.street", "Via Dante 12"), ("address.postcode", "20121"),
                        ("address.city", "Milano"), ("address.province", "mi"),
                        ("vat_id", vat_id)):
        form.locator(f"input[name='{name}']").fill(value)


def test_an_italian_consumer_needs_the_codice_fiscale(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    page.goto("/billing/details")
    form = page.get_by_test_id("details-form")
    form.get_by_label("A person (consumer)").check()
    form.get_by_label("Country").select_option("IT")
    expect(form.get_by_label("VAT number")).to_be_hidden()
    expect(form.get_by_label("SDI recipient code")).to_be_hidden()
    expect(form.get_by_label("Codice fiscale")).to_be_visible()
    form.get_by_label("Legal name").fill("Maria Rossi")
    form.get_by_label("Street and number").fill("Via Roma 1")
    form.get_by_label("Postcode").fill("00184")
    form.get_by_label("City").fill("Roma")
    form.get_by_role("button", name="Save billing details").click()
    expect(page.get_by_test_id("error-tax_code")).to_have_text(
        "An Italian consumer needs the codice fiscale.")
    expect(page.get_by_test_id("error-address.province")).to_have_text(
        "Required in Italy: two letters, e.g. MI, RM.")
    expect(page.get_by_test_id("error").get_by_role("link")).to_have_text([
        "Province or region: Required in Italy: two letters, e.g. MI, RM.",
        "Codice fiscale: An Italian consumer needs the codice fiscale."])
    form.get_by_label("Codice fiscale").fill("RSSMRA85T10A562S")
    form.get_by_label("Province or region").fill("RM")
    form.get_by_role("button", name="Save billing details").click()
    expect(page.get_by_test_id("billing-details")).to_contain_text("RSSMRA85T10A562S")


def test_another_admin_sees_the_details_read_only(page: Page, server: Server) -> None:
    account = seed(server, seats=2)
    svc = server.services
    owner = Actor.of_user(_user(server, account.email))
    billing_details.save(svc, owner, account.account_id, BillingDetails(
        "business", "Beispiel GmbH", Address("Hauptstraße 5", "10115", "Berlin", None, "DE"),
        "DE136695976"))
    email = f"bea-{secrets.token_hex(4)}@example.com"
    accounts.add_user(svc, owner, account.account_id, email, "Bea Billing", PASSWORD, ADMIN,
                      billing=True)
    sign_in(page, email)
    section = page.get_by_test_id("billing-details")
    expect(section).to_contain_text("Beispiel GmbH")
    expect(section).to_contain_text("Hauptstraße 5, 10115 Berlin, Germany")
    expect(section).to_contain_text("DE136695976")
    expect(section.get_by_role("link")).to_have_count(0)
    section.scroll_into_view_if_needed()
    shot(page, "en-billing-details-read-only", full_page=False)
    expect(section.get_by_test_id("details-ask")).to_have_text(
        f"Only the primary admin can change them: ask Ada Lovelace ({account.email}).")
    page.goto("/billing/details")  # the form itself is not theirs either
    expect(page.get_by_test_id("error")).to_have_text(
        "Only the account's primary admin can do this.")
    # Nor a save sent by hand: the server judges, and nothing changes.
    csrf = page.locator("input[name=csrf]").first.input_value()
    answer = page.request.post("/billing/details", form={
        "csrf": csrf, "kind": "business", "legal_name": "Someone Else GmbH",
        "address.street": "Hauptstraße 5", "address.postcode": "10115",
        "address.city": "Berlin", "address.country": "DE", "vat_id": "DE136695976"})
    assert answer.url.endswith("/billing?error=forbidden")
    saved = billing_details.get(svc, owner, account.account_id)
    assert saved.details.legal_name == "Beispiel GmbH"


def test_the_form_on_a_phone(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 812},
                                  is_mobile=True, has_touch=True, locale="it-IT")
    context.set_default_timeout(10_000)
    phone = context.new_page()
    account = seed(server, locale="it")
    sign_in(phone, account.email, lang="it")
    phone.goto("/billing/details")
    form = phone.get_by_test_id("details-form")
    form.get_by_label("Un'azienda").check()
    form.get_by_label("Paese").select_option("IT")
    form.get_by_role("button", name="Salva i dati di fatturazione").click()
    expect(phone.get_by_test_id("error-legal_name")).to_have_text(
        "Questo campo è obbligatorio.")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the form scrolls sideways ({width}px)"
    shot(phone, "it-billing-details-phone")
    assert_accessible(phone, "billing details form on a phone (it)")
    context.close()


def _user(server: Server, email: str):  # type: ignore[no-untyped-def]
    with server.services.database.read() as store:
        return store.people.user_by_email(email)
