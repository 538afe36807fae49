"""The console's account view shows credit notes and each document's FatturaPA file with
its SDI state (SPEC §8); the agent downloads the credit note's PDF and the files."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from canone.billing.parties import Address, BillingDetails
from canone.integrations.einvoice.fatturapa import FatturaPaBuilder
from canone.integrations.einvoice.folder import FolderOutbox
from canone.integrations.einvoice.rates import FixedExchangeRates
from canone.integrations.vies import FakeVies
from canone.services import einvoice_files, requests
from canone.services.context import Services
from canone.services.einvoicing import EInvoicing
from canone.services.sellers import seller_in_effect
from canone.settings import Settings
from canone.web.app import create_app
from fatturapa_schema import checked

from .conftest import STAFF_EMAIL, SUPPORT, ask, customer, plan, sign_in

OFFICINA = BillingDetails("business", "Officina Verde S.r.l.",
                          Address("Via Tortona 27", "20144", "Milano", "MI", "IT"),
                          vat_id="IT05182730159", sdi_code="KRX5Q7A")
ECB = FixedExchangeRates({"USD": {date(2026, 3, 31): Decimal("1.1580")}})


@pytest.fixture
def filing(svc: Services, tmp_path: Path) -> Services:
    seller = seller_in_effect(None)
    return dataclasses.replace(svc, seller=seller, vies=FakeVies(), einvoicing=EInvoicing(
        seller, FatturaPaBuilder(ECB), FolderOutbox(tmp_path / "sdi"), ECB))


@pytest.fixture
def agent(filing: Services):
    settings = Settings(database_url="sqlite://", secret_key="test-secret")
    with TestClient(create_app(settings, filing), base_url="http://testserver") as http:
        sign_in(http, STAFF_EMAIL)
        yield http


def test_the_account_view_shows_credit_notes_and_e_invoice_states(filing: Services,
                                                                  agent: TestClient,
                                                                  tmp_path: Path) -> None:
    ada = customer(filing, plan(currency="EUR"), details=OFFICINA)
    request = ask(filing, ada, plan(tier="plus", currency="EUR"))
    requests.transition(filing, SUPPORT, request.id, "completed", "now")
    einvoice_files.hand_over(filing)  # the worker's pass: both files to the intermediary
    (tmp_path / "sdi" / "IT12345670017_00001.xml").unlink()
    (tmp_path / "sdi" / "IT12345670017_00001_NS_001.xml").write_text(
        '<?xml version="1.0"?><ns3:NotificaScarto xmlns:ns3="http://ivaservizi.agenziaentrate'
        '.gov.it/docs/xsd/fatture/messaggi/v1.0" versione="1.0"><IdentificativoSdI>4712'
        "</IdentificativoSdI><NomeFile>IT12345670017_00001.xml</NomeFile><ListaErrori>"
        "<Errore><Codice>00404</Codice><Descrizione>Fattura duplicata</Descrizione></Errore>"
        "</ListaErrori></ns3:NotificaScarto>")
    einvoice_files.read_receipts(filing)

    page = agent.get(f"/console/accounts/{ada.account_id}")

    assert page.status_code == 200
    text = page.text
    assert "Credit notes" in text and "NC-2026-000001" in text and "Unused time" in text
    assert "Credited to the balance" in text
    assert "Rejected by SDI" in text and "00404" in text and "Fattura duplicata" in text
    assert "Sent, awaiting SDI" in text  # the credit note's file: no answer yet
    base = f"/console/accounts/{ada.account_id}"
    for name, document in (("IT12345670017_00001.xml", ada_invoice(filing, ada.account_id)),
                           ("IT12345670017_00002.xml", None)):
        assert f'title="{name}"' in text
        if document:
            assert f'href="{base}/documents/{document}/fatturapa.xml"' in text
    with filing.database.read() as store:
        [note] = store.documents.credit_notes_of(ada.account_id, 10, None)
    assert f'href="{base}/credit-notes/{note.id}/pdf"' in text

    pdf = agent.get(f"{base}/credit-notes/{note.id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xml = agent.get(f"{base}/documents/{note.id}/fatturapa.xml")
    assert xml.status_code == 200
    assert checked(xml.content).findtext(
        "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/Numero") == "NC-2026-000001"
    assert agent.get(f"{base}/documents/inv_nope/fatturapa.xml").status_code == 404


def ada_invoice(svc: Services, account_id: str) -> str:
    with svc.database.read() as store:
        [invoice] = store.invoices.of_account(account_id, 10, None)
    return invoice.id


def test_the_console_speaks_italian_about_credit_notes(filing: Services,
                                                       agent: TestClient) -> None:
    ada = customer(filing, plan(currency="EUR"), details=OFFICINA)
    request = ask(filing, ada, plan(tier="plus", currency="EUR"))
    requests.transition(filing, SUPPORT, request.id, "completed", "now")
    page = agent.get(f"/console/accounts/{ada.account_id}?lang=it")

    for words in ("Note di credito", "Tempo non usato", "Accreditata sul saldo",
                  "Creata, non ancora inviata"):
        assert words in page.text, words


def test_the_audit_trail_says_why_a_document_has_no_file(svc: Services, filing: Services,
                                                         agent: TestClient) -> None:
    """An account made before the seller filed e-invoices has no billing details: its next
    invoice gets no FatturaPA file, and the audit trail says so in the agent's language."""
    ada = customer(svc, plan(currency="EUR"))  # signed up while nobody filed
    request = ask(filing, ada, plan(tier="enterprise", currency="EUR"))
    requests.transition(filing, SUPPORT, request.id, "completed", "now")
    with filing.database.read() as store:
        [invoice, _] = store.invoices.of_account(ada.account_id, 10, None)  # newest first
        [skipped] = store.audit.of_account(ada.account_id, 50, action="einvoice.skipped")
    assert skipped.after == {"document": invoice.number, "reason": einvoice_files.NO_DETAILS}
    english = agent.get(f"/console/accounts/{ada.account_id}").text
    italian = agent.get(f"/console/accounts/{ada.account_id}?lang=it").text

    assert (f"No FatturaPA file was made for {invoice.number}: the account has no billing "
            "details.") in english
    assert (f"Nessun file FatturaPA è stato creato per {invoice.number}: l&#39;account non ha "
            "dati di fatturazione.") in italian
    assert "einvoice.skipped" not in english + italian
