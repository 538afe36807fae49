"""The help article's flows in Italian ("Come faccio a cambiare il mio piano?"), on a
desktop and at phone width, with Babel's Italian amounts ("48,00 €")."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import Server, open_dialog, seed, shot, sign_in

EUR = "\u00a0€"  # Babel's it_IT format: "1.234,50 €" with a no-break space


def test_contact_limit_and_seats_in_italian(page: Page, server: Server) -> None:
    account = seed(server, currency="EUR", locale="it", name="Rossi S.r.l.",
                   admin_name="Giulia Rossi")
    sign_in(page, account.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Fatturazione e upgrade")
    expect(page.get_by_test_id("plan-price")).to_have_text(f"49,00{EUR}")
    shot(page, "it-billing-page")
    # "Fai clic sul link "Modifica" accanto all'importo del contatto."
    page.get_by_role("button", name="Modifica limite contatto").click()
    # The dialogs' shared parts (close button, review step) are in Italian too.
    expect(page.locator("#dlg-contacts .dialog-close")).to_have_attribute("aria-label", "Chiudi")
    page.locator("#contacts-slider").press("ArrowRight")
    summary = page.locator("#dlg-contacts [data-quote-part=summary]")
    expect(page.get_by_test_id("slider-value")).to_have_text("2.500")
    expect(summary.get_by_test_id("future-price")).to_have_text(f"69,00{EUR}")
    expect(summary.get_by_test_id("due-today")).to_have_text(f"10,00{EUR}")
    shot(page, "it-contacts-slider", full_page=False)
    page.get_by_role("button", name="Aggiorna limite di contatto").click()
    review = page.locator("#dlg-contacts [data-quote-part=review]")
    expect(review).to_contain_text("Poi al mese, dal 1 maggio 2026")
    shot(page, "it-contacts-review", full_page=False)
    page.get_by_role("button", name="Conferma acquisto").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text(f"totale 10,00{EUR}")
    expect(page.get_by_test_id("contact-limit")).to_have_text("2.500")
    # "Nella modalità "Gestisci postazioni utente", fai clic sulle icone più o meno"
    page.get_by_role("button", name="Modifica postazioni utente").click()
    expect(page.get_by_role("heading", name="Gestisci postazioni utente")).to_be_visible()
    page.get_by_role("button", name="Aggiungi una postazione").click()
    seats = page.locator("#dlg-seats [data-quote-part=summary]")
    expect(seats.get_by_test_id("due-today")).to_have_text(f"9,50{EUR}")
    page.get_by_role("button", name="Continua").click()
    page.get_by_role("button", name="Conferma acquisto").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text(f"totale 9,50{EUR}")
    expect(page.get_by_test_id("invoices")).to_contain_text("2026-")
    # The invoice downloads as a "fattura", as the emailed copy is named.
    link = page.get_by_test_id("confirmation").get_by_role("link").get_attribute("href")
    pdf = page.request.get(link or "")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    assert re.fullmatch(r'inline; filename="fattura-\d{4}-\d{6}\.pdf"',
                        pdf.headers["content-disposition"]), pdf.headers["content-disposition"]


def test_tier_add_on_bundle_and_request_in_italian(page: Page, server: Server) -> None:
    account = seed(server, currency="EUR", locale="it", name="Rossi S.r.l.",
                   admin_name="Giulia Rossi")
    sign_in(page, account.email)
    # Livello del piano → modale → "Esegui l'upgrade"
    page.get_by_role("button", name="Esegui l'upgrade a Enterprise").click()
    tier = page.locator("#dlg-tier")
    expect(tier.get_by_test_id("review-due-today")).to_have_text(f"48,00{EUR}")
    expect(tier.get_by_test_id("review-future-price")).to_have_text(f"145,00{EUR}")
    expect(tier.get_by_test_id("features-gained")).to_contain_text("Oggetti personalizzati")
    shot(page, "it-tier-dialog", full_page=False)
    tier.get_by_role("button", name="Annulla").click()
    # "Componenti aggiuntivi disponibili" → "Aggiungi al piano" → "Rivedi acquisto"
    expect(page.get_by_role("heading", name="Componenti aggiuntivi disponibili")).to_be_visible()
    page.get_by_test_id("addon-sms").get_by_role("button", name="Aggiungi al piano").click()
    addon = page.locator("#dlg-addon")
    expect(addon.get_by_role("heading", name="Rivedi acquisto")).to_be_visible()
    expect(addon.get_by_test_id("review-due-today")).to_have_text(f"7,50{EUR}")
    shot(page, "it-addon-review", full_page=False)
    addon.get_by_role("button", name="Conferma acquisto").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text(f"totale 7,50{EUR}")
    # "Completa il pacchetto per sbloccare ulteriori funzionalità" → "Aggiorna il mio piano"
    bundle = page.get_by_test_id("bundle-offer")
    expect(bundle).to_contain_text("Completa il pacchetto per sbloccare ulteriori funzionalità")
    bundle.get_by_role("link").click()
    summary = page.locator("[data-quote-part=summary]").first
    # Bundle Plus 93,00 € + SMS 15,00 €; 15 days of each less 15 days of 49 € + 15 €.
    expect(summary.get_by_test_id("future-price")).to_have_text(f"108,00{EUR}")
    expect(summary.get_by_test_id("due-today")).to_have_text(f"22,00{EUR}")
    shot(page, "it-bundle-configurator")
    dialog = open_dialog(page.get_by_role("button", name="Aggiorna il mio piano"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text(f"22,00{EUR}")
    shot(page, "it-bundle-dialog", full_page=False)
    dialog.get_by_role("button", name="Esegui l'upgrade").click()
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing e Sales Plus")
    # "Vuoi cambiare il tuo piano? Contattaci" → "Richiedi modifica account" → "Invia richiesta"
    expect(page.locator(".page-head")).to_contain_text("Vuoi cambiare il tuo piano? Contattaci")
    page.locator(".page-head").get_by_role("button", name="Contattaci").click()
    request = page.locator("#dlg-request")
    expect(request.get_by_role("heading", name="Richiedi modifica account")).to_be_visible()
    request.get_by_label("Motivo").select_option("product_change")
    request.get_by_label("Messaggio").fill("Vorremmo tornare al solo Marketing.")
    shot(page, "it-request-dialog", full_page=False)
    request.get_by_role("button", name="Invia richiesta").click()
    expect(page.get_by_test_id("notice")).to_contain_text("La tua richiesta è stata inviata.")
    expect(page.get_by_test_id("request-status")).to_have_text("Aperta")
    shot(page, "it-billing-after")


def test_the_language_switch_sticks(page: Page, server: Server) -> None:
    account = seed(server)  # an English account
    sign_in(page, account.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing & Upgrade")
    page.get_by_role("link", name="Italiano").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fatturazione e upgrade")
    expect(page.get_by_test_id("plan-price")).to_have_text("49,00\u00a0USD")
    page.goto("/billing")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fatturazione e upgrade")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing & Upgrade")


def test_phone_width_in_both_languages(phone: Page, server: Server) -> None:
    account = seed(server, currency="EUR", locale="it", addons=("sms",), contacts=2500)
    sign_in(phone, account.email)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    shot(phone, "it-phone-billing")
    phone.get_by_role("button", name="Modifica limite contatto").click()
    phone.locator("#contacts-slider").press("ArrowRight")
    expect(phone.get_by_test_id("slider-value")).to_have_text("5.000")
    expect(phone.locator("#dlg-contacts [data-testid=due-today]").first).to_have_text(
        re.compile(r"\d+,\d\d\u00a0€"))
    shot(phone, "it-phone-contacts-dialog", full_page=False)
    phone.keyboard.press("Escape")
    phone.goto("/billing?lang=en")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "en-phone-billing")
    phone.get_by_role("button", name="Edit user seats").click()
    shot(phone, "en-phone-seats-dialog", full_page=False)
    phone.keyboard.press("Escape")
    phone.goto("/billing/bundle")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "en-phone-bundle")
