"""Credit notes and FatturaPA files over the API (SPEC §7, §8): `GET …/credit-notes`,
`…/credit-notes/{id}`, its PDF, and the `fatturapa.xml` of an invoice and a credit note; a
sign-up without billing details refused while the seller files e-invoices."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from canone.integrations.einvoice.fatturapa import FatturaPaBuilder
from canone.integrations.einvoice.folder import FolderOutbox
from canone.integrations.einvoice.rates import FixedExchangeRates
from canone.services.context import Services
from canone.services.einvoicing import EInvoicing
from canone.services.sellers import seller_in_effect
from fatturapa_schema import checked

from .conftest import API, account_key, bearer, config, move_clock, sign_up, signup_body

OFFICINA = {"kind": "business", "legal_name": "Officina Verde S.r.l.",
            "address": {"street": "Via Torino 10", "postcode": "20123", "city": "Milano",
                        "province": "MI", "country": "IT"},
            "vat_id": "00743110157", "sdi_code": "M5UXCR1"}
ECB = FixedExchangeRates({"USD": {date(2026, 3, 31): Decimal("1.1580")}})


@pytest.fixture
def services(services: Services, tmp_path: Path) -> Services:
    """The API's services for a seller that files e-invoices (the demo seller)."""
    seller = seller_in_effect(None)
    return dataclasses.replace(services, seller=seller, einvoicing=EInvoicing(
        seller, FatturaPaBuilder(ECB), FolderOutbox(tmp_path / "sdi"), ECB))


def apply_cheaper_plan_now(client: TestClient, key: str, account_id: str) -> None:
    """Pro → Plus applied now by support on 16 April: 15.00 net of unused time back."""
    created = client.post(f"{API}/accounts/{account_id}/change-requests", headers=bearer(key),
                          json={"desired": config(currency="EUR"), "reason": "Budget"})
    assert created.status_code == 201, created.text
    move_clock(client, key, "2026-04-16T08:00:00Z")
    done = client.post(f"{API}/change-requests/{created.json()['id']}/transitions",
                       headers=bearer(key), json={"to": "completed", "effective": "now"})
    assert done.status_code == 200, done.text


def get(client: TestClient, key: str, path: str) -> Any:
    return client.get(f"{API}{path}", headers=bearer(key))


def test_a_credit_note_is_listed_read_printed_and_filed(client: TestClient,
                                                        operator_key: str) -> None:
    account = sign_up(client, operator_key, currency="EUR", billing_details=OFFICINA,
                      subscription=config(tier="pro", currency="EUR"))
    apply_cheaper_plan_now(client, operator_key, account["id"])

    listed = get(client, operator_key, f"/accounts/{account['id']}/credit-notes")
    assert listed.status_code == 200, listed.text
    [note] = listed.json()["data"]
    invoice_id = account["invoice"]["id"]
    assert {k: note[k] for k in ("number", "invoice_id", "invoice_number", "invoice_date",
                                 "reason", "settlement", "currency", "issued_on", "subtotal",
                                 "total")} == {
        "number": "NC-2026-000001", "invoice_id": invoice_id,
        "invoice_number": account["invoice"]["number"], "invoice_date": "2026-04-01",
        "reason": "unused_time", "settlement": "balance", "currency": "EUR",
        "issued_on": "2026-04-16", "subtotal": "15.00", "total": "18.30"}
    assert note["tax_lines"] == [{"rule": "domestic", "rate": "22.00", "country": "IT",
                                  "taxable": "15.00", "amount": "3.30", "note": "VAT 22 %"}]
    assert note["customer"]["vat_id"] == "IT00743110157"  # as the invoice it corrects
    assert note["einvoice"] == {
        "file_name": "IT12345670017_00002.xml", "state": "pending", "sdi_errors": [],
        "url": f"{API}/accounts/{account['id']}/credit-notes/{note['id']}/fatturapa.xml"}
    assert get(client, operator_key, f"/accounts/{account['id']}/credit-notes/{note['id']}"
               ).json() == note

    ledger = get(client, operator_key, f"/accounts/{account['id']}/ledger").json()
    assert [(e["amount"], e["credit_note_id"]) for e in ledger["entries"]] == [
        ("18.30", note["id"])]

    pdf = get(client, operator_key, note["pdf_url"].removeprefix(API))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert 'filename="credit-note-NC-2026-000001.pdf"' in pdf.headers["content-disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for printed in ("Credit note", "NC-2026-000001", "Corrects invoice",
                    account["invoice"]["number"], "Officina Verde S.r.l.", "€18.30",
                    "Credited to the account balance"):
        assert printed in text

    xml = get(client, operator_key, note["einvoice"]["url"].removeprefix(API))
    assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
    assert 'filename="IT12345670017_00002.xml"' in xml.headers["content-disposition"]
    root = checked(xml.content)
    assert root.findtext("FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/"
                         "TipoDocumento") == "TD04"

    invoice_xml = get(client, operator_key, f"/invoices/{invoice_id}/fatturapa.xml")
    assert invoice_xml.status_code == 200
    assert checked(invoice_xml.content).findtext(
        "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/TipoDocumento") == "TD01"


def test_another_account_s_credit_notes_and_files_are_404(client: TestClient,
                                                          operator_key: str,
                                                          services: Services) -> None:
    mine = sign_up(client, operator_key, currency="EUR", billing_details=OFFICINA,
                   subscription=config(tier="pro", currency="EUR"))
    apply_cheaper_plan_now(client, operator_key, mine["id"])
    other = sign_up(client, operator_key, email="bob@example.com", currency="EUR",
                    billing_details=OFFICINA, subscription=config(currency="EUR"))
    note = get(client, operator_key, f"/accounts/{mine['id']}/credit-notes").json()["data"][0]
    theirs = account_key(services, other["id"])

    for path in (f"/accounts/{mine['id']}/credit-notes",
                 f"/accounts/{mine['id']}/credit-notes/{note['id']}",
                 f"/accounts/{mine['id']}/credit-notes/{note['id']}/pdf",
                 f"/accounts/{mine['id']}/credit-notes/{note['id']}/fatturapa.xml",
                 f"/invoices/{mine['invoice']['id']}/fatturapa.xml",
                 f"/accounts/{other['id']}/credit-notes/{note['id']}"):
        assert get(client, theirs, path).status_code == 404, path


def test_sign_up_without_billing_details_is_a_422_naming_the_fields(
        client: TestClient, operator_key: str) -> None:
    response = client.post(f"{API}/accounts", json=signup_body(), headers=bearer(operator_key))
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["billing_details.kind", "billing_details.legal_name",
                      "billing_details.address.street", "billing_details.address.postcode",
                      "billing_details.address.city", "billing_details.address.country"]


def test_the_credit_note_pdf_is_in_italian_for_an_italian_account(client: TestClient,
                                                                  operator_key: str) -> None:
    account = sign_up(client, operator_key, currency="EUR", locale="it",
                      billing_details=OFFICINA, subscription=config(tier="pro", currency="EUR"))
    apply_cheaper_plan_now(client, operator_key, account["id"])
    note = get(client, operator_key, f"/accounts/{account['id']}/credit-notes").json()["data"][0]

    pdf = get(client, operator_key, note["pdf_url"].removeprefix(API))

    assert 'filename="nota-di-credito-NC-2026-000001.pdf"' in pdf.headers["content-disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for printed in ("Nota di credito", "Rettifica la fattura", "01/04/2026",
                    "Tempo non usato accreditato dopo un cambio di piano", "Imponibile",
                    "IVA 22 %", "18,30", "Accreditata sul saldo del conto"):
        assert printed in text, printed
