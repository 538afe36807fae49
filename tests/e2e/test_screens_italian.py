"""The page states people meet when something goes wrong, in Italian, with screenshots:
sign-in error, 403, a reduction scheduled, seats below active users, a stale quote and a
declined card."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from canone.services import accounts
from canone.services.access import Actor

from .conftest import (
    DECLINED_CARD,
    PASSWORD,
    Server,
    italian,
    open_dialog,
    shot,
    signed_in,
)


def test_sign_in_error_and_403_in_italian(page: Page, server: Server) -> None:
    account = italian(server, seats=3)
    page.goto("/login?lang=it")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", "sbagliata")
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("alert")).to_have_text("L'email o la password non sono corrette.")
    shot(page, "it-login-error", full_page=False)
    page.fill("input[name=email]", account.admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Non hai accesso a questa pagina")
    expect(page.locator("main")).to_contain_text(f"Giulia Rossi ({account.email})")
    shot(page, "it-403", full_page=False)


def test_reduction_and_seat_limits_in_italian(page: Page, server: Server) -> None:
    signed_in(page, italian(server, contacts=5000, seats=4))
    page.get_by_role("button", name="Modifica limite contatto").click()
    page.locator("#contacts-slider").press("ArrowLeft")
    summary = page.locator("#dlg-contacts [data-quote-part=summary]")
    expect(summary).to_contain_text("Questa riduzione è programmata per il prossimo periodo, "
                                     "dal 1 maggio 2026.")
    shot(page, "it-contacts-reduction", full_page=False)
    page.get_by_role("button", name="Aggiorna limite di contatto").click()
    page.get_by_role("button", name="Programma la modifica").click()
    expect(page.get_by_test_id("pending")).to_contain_text("2.500 contatti")
    shot(page, "it-reduction-scheduled")
    page.get_by_role("button", name="Modifica postazioni utente").click()
    page.get_by_role("button", name="Togli una postazione").click()
    page.get_by_role("button", name="Togli una postazione").click()
    expect(page.locator("#dlg-seats [data-quote-part=summary]")).to_have_text(
        "Il tuo account ha 3 utenti attivi. Disattiva prima degli utenti per scendere sotto "
        "3 postazioni.")
    shot(page, "it-seats-below-active-users", full_page=False)


def test_stale_quote_and_declined_card_in_italian(page: Page, server: Server) -> None:
    account = signed_in(page, italian(server))
    dialog = open_dialog(page.get_by_role("button", name="Esegui l'upgrade a Pro"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("15,00\u00a0€")
    server.clock.advance(days=1)
    dialog.get_by_role("button", name="Esegui l'upgrade").click()
    expect(page.get_by_test_id("error")).to_have_text(
        "Il prezzo è cambiato, controlla di nuovo. Non è stato addebitato nulla.")
    shot(page, "it-stale-quote", full_page=False)
    with server.services.database.transaction() as store:
        admin = store.people.user_by_email(account.email)
    assert admin is not None
    accounts.update_card(server.services, Actor.of_user(admin), account.account_id,
                         DECLINED_CARD)
    page.get_by_role("button", name="Esegui l'upgrade a Pro").click()
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("14,00\u00a0€")
    dialog.get_by_role("button", name="Esegui l'upgrade").click()
    expect(page.get_by_test_id("error")).to_contain_text("La tua carta è stata rifiutata.")
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Plus")
    shot(page, "it-card-declined", full_page=False)
