"""`invoices.invoice_pdf`: the invoice PDF in the account's language, for those who may see
it; read back with pypdf and checked to the cent."""

from __future__ import annotations

import io

import pypdf
import pytest

from canone.services import accounts, invoices, quotes
from canone.services.access import ACCOUNT_KEY, EMAIL, OPERATOR, STAFF, Actor
from canone.services.context import Services
from canone.services.errors import Forbidden, NotFound
from canone.services.invoices import describe_line

from .support import config, sign_up


def pdf_lines(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\xa0", " ").splitlines()


def admin_of(svc: Services, email: str) -> Actor:
    with svc.database.transaction() as store:
        user = store.people.user_by_email(email)
    assert user is not None
    return Actor.of_user(user)


def test_an_english_invoice_pdf(svc):
    signed = sign_up(svc, config(seats=2, addons=("sms",)))
    data = invoices.invoice_pdf(svc, admin_of(svc, "ada@example.com"), signed.invoice.id)

    lines = pdf_lines(data)
    assert data.startswith(b"%PDF-")
    for expected in ("Invoice", "Number 2026-000001", "Issue date Apr 1, 2026",
                     "Period Apr 1, 2026 – May 1, 2026", "canone demo seller", "Ada's Shop",
                     "ada@example.com",
                     "Marketing Plus, 1,000 contacts, monthly $49.00",
                     "1 extra user seat, monthly $19.00",
                     "SMS add-on, monthly $15.00",
                     "Total $83.00", "Credit applied $0.00", "Amount paid $83.00",
                     "Amount due $0.00", "Status Paid"):
        assert expected in lines


def test_an_italian_upgrade_invoice_translates_every_line(svc, clock):
    account = sign_up(svc, config(currency="EUR"), email="anna@esempio.it", locale="it").account
    anna = admin_of(svc, "anna@esempio.it")
    clock.advance(days=15)  # 16 April: 15 of the period's 30 days remain
    quote = quotes.preview(svc, anna, account.id, config(currency="EUR", contacts=2500, seats=3))
    assert quote.token is not None
    invoice = quotes.confirm(svc, anna, account.id, quote.token).invoice
    assert invoice is not None

    lines = pdf_lines(invoices.invoice_pdf(svc, anna, invoice.id))

    for expected in (
        "Fattura", "Numero 2026-000002", "Data di emissione 16/04/2026",
        "Periodo 16/04/2026 – 01/05/2026", "Intestata a".upper(),
        "Tempo non usato di Marketing Plus, 1.000 contatti, mensile (15 di 30 giorni) -24,50 €",
        "Tempo residuo di Marketing Plus, 2.500 contatti, mensile (15 di 30 giorni) 34,50 €",
        "Tempo residuo di 2 postazioni utente aggiuntive, mensile (15 di 30 giorni) 19,00 €",
        "Totale 29,00 €", "Credito applicato 0,00 €", "Importo pagato 29,00 €",
        "Importo da pagare 0,00 €", "Stato Pagata",
    ):
        assert expected in lines, f"{expected!r} not in {lines}"


def test_who_may_download_an_invoice(svc):
    ada = sign_up(svc, config(seats=3))  # a seat for each person
    bea = sign_up(svc, email="bea@example.com", name="Bea's Shop")
    admin = admin_of(svc, "ada@example.com")
    accounts.add_user(svc, admin, ada.account.id, "carl@example.com", "Carl", "correct horse")
    accounts.add_user(svc, admin, ada.account.id, "dora@example.com", "Dora", "correct horse",
                      role="admin", billing=True)
    invoice_id = ada.invoice.id

    for allowed in (admin, admin_of(svc, "dora@example.com"),
                    Actor(STAFF, "staff:sam@canone.example"), Actor(OPERATOR, "key:ops"),
                    Actor(ACCOUNT_KEY, "key:ada", ada.account.id)):
        assert invoices.invoice_pdf(svc, allowed, invoice_id).startswith(b"%PDF-")
    with pytest.raises(Forbidden):
        invoices.invoice_pdf(svc, admin_of(svc, "carl@example.com"), invoice_id)
    with pytest.raises(Forbidden):
        invoices.invoice_pdf(svc, Actor(EMAIL, "email:ada@example.com", ada.account.id),
                             invoice_id)
    for outsider in (admin_of(svc, "bea@example.com"),
                     Actor(ACCOUNT_KEY, "key:bea", bea.account.id)):
        with pytest.raises(NotFound):
            invoices.invoice_pdf(svc, outsider, invoice_id)
    with pytest.raises(NotFound):
        invoices.invoice_pdf(svc, admin, "inv_missing")


@pytest.mark.parametrize(("key", "english", "italian"), [
    ("base", "Marketing + Sales Pro, 100,000 contacts, yearly",
     "Marketing + Sales Pro, 100.000 contatti, annuale"),
    ("seats", "1 user seat, monthly", "1 postazione utente, mensile"),
    ("seats", "4 user seats, yearly", "4 postazioni utente, annuale"),
    ("seats", "1 extra user seat, monthly", "1 postazione utente aggiuntiva, mensile"),
    ("addon:custom_reporting", "Custom Reporting add-on, yearly",
     "Componente aggiuntivo Report personalizzati, annuale"),
    ("seats", "Sales Pro, 3 user seats, monthly", "Sales Pro, 3 postazioni utente, mensile"),
    ("seats", "Unused time on Sales Plus, 1 user seat, monthly (3 of 31 days)",
     "Tempo non usato di Sales Plus, 1 postazione utente, mensile (3 di 31 giorni)"),
    ("addon:sms", "Unused time on SMS add-on, monthly (3 of 31 days)",
     "Tempo non usato di Componente aggiuntivo SMS, mensile (3 di 31 giorni)"),
    ("base", "Something the catalog says", "Something the catalog says"),
])
def test_line_descriptions_in_italian(key, english, italian):
    assert describe_line(key, english, "it") == italian
    assert describe_line(key, english, "en") == english
