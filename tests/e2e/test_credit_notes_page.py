"""The customer's credit notes on the Billing & Upgrade page (SPEC §8), under the invoices
they correct, each with its PDF; in English and Italian, on a desktop and a phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from canone.services import credit_notes
from canone.services.documents import REFUND, TO_CARD, UNUSED_TIME

from .axe import assert_accessible
from .conftest import Server, italian, shot, sign_in


def test_the_page_lists_credit_notes_with_their_pdf(page: Page, phone: Page,
                                                    server: Server) -> None:
    account = italian(server)
    svc = server.services
    with svc.database.transaction() as store:
        (invoice,) = store.invoices.of_account(account.account_id, 10, None)
        balance = credit_notes.credit_gross(svc, store, invoice, 1000, UNUSED_TIME)
        card = credit_notes.credit_gross(svc, store, invoice, 500, REFUND,
                                         settlement=TO_CARD)

    sign_in(page, account.email)
    notes = page.get_by_test_id("credit-notes")
    expect(page.locator("#credit-notes-title")).to_have_text("Note di credito")
    expect(notes.get_by_role("row")).to_have_count(3)  # the heading and two notes
    expect(notes.get_by_role("row").nth(1)).to_contain_text(
        f"{card.number} 16 apr 2026 {invoice.number} Rimborso 5,00\u00a0€ Rimborsata sulla carta",
        use_inner_text=True)
    expect(notes.get_by_role("row").nth(2)).to_contain_text(
        f"{balance.number} 16 apr 2026 {invoice.number} Tempo non usato 10,00\u00a0€ "
        "Accreditata sul saldo", use_inner_text=True)
    assert_accessible(page, "billing page with credit notes (it)")
    shot(page, "it-billing-credit-notes")
    link = notes.get_by_role("link", name=f"Scarica la nota di credito {balance.number} (PDF)")
    pdf = page.request.get(link.get_attribute("href") or "")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == (
        f'inline; filename="nota-di-credito-{balance.number}.pdf"')

    page.goto("/billing?lang=en")
    expect(page.locator("#credit-notes-title")).to_have_text("Credit notes")
    expect(notes.get_by_role("row").nth(2)).to_contain_text(
        f"{balance.number} Apr 16, 2026 {invoice.number} Unused time €10.00 "
        "Credited to the balance", use_inner_text=True)
    shot(page, "en-billing-credit-notes")

    sign_in(phone, account.email)  # the column headings hidden, the invoice is named
    on_phone = phone.get_by_test_id("credit-notes").get_by_role("row")
    expect(on_phone.filter(has_text=card.number)).to_contain_text(
        f"{card.number}\n16 apr 2026\nRettifica la fattura {invoice.number}",
        use_inner_text=True)
    shot(phone, "it-phone-billing-credit-notes")
