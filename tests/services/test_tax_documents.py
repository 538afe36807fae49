"""The invoice PDF of a taxed invoice (SPEC §8): the seller, the customer's billing details
as issued, the tax per rate and the legal notes, in the account's language. Each is also
written as a PNG (test-artifacts/pdf) for a look."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from pypdf import PdfReader

from canone.services import billing_details, invoices, quotes, renewal
from canone.services.context import Services

from .conftest import admin_of, at, config, sign_up
from .tax_cases import GERMAN_BUSINESS, ITALIAN_BUSINESS, US_CONSUMER

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"


def _upgrade_invoice_pdf(svc: Services, clock, details, locale: str, currency: str = "EUR",
                         name: str = "") -> list[str]:
    clock.set(at(2026, 4, 1))
    account_id = sign_up(svc, config(currency=currency), locale=locale).account.id
    ada = admin_of(svc, account_id)
    billing_details.save(svc, ada, account_id, details)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, account_id,
                           config(tier="enterprise", currency=currency)).token
    invoice = quotes.confirm(svc, ada, account_id, token).invoice
    billing_details.save(svc, ada, account_id, US_CONSUMER)  # later: the invoice keeps its own
    pdf = invoices.invoice_pdf(svc, ada, invoice.id)
    if name:
        _png(pdf, name)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return [line.replace("\xa0", " ") for line in text.splitlines()]


def _png(pdf: bytes, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", path,
                    ARTIFACTS / name], check=True)


def test_an_italian_business_invoice_in_italian(taxed, clock) -> None:
    lines = _upgrade_invoice_pdf(taxed, clock, ITALIAN_BUSINESS, "it", name="tax-it-business")

    assert lines[:4] == ["Fattura", "Numero 2026-000002", "Data di emissione 16/04/2026",
                         "Periodo 16/04/2026 – 01/05/2026"]
    assert lines[4:11] == ["Canone Demo S.r.l. (demo seller)", "Via della Moscova 1",
                           "20121 Milano MI", "P.IVA IT12345670017", "REA MI-2765432",
                           "INTESTATA A", "Officina Verde S.r.l."]
    assert lines[11:15] == ["Via Tortona 27", "20144 Milano MI", "Partita IVA IT05182730159",
                            "Codice SDI KRX5Q7A"]
    assert "Imponibile 48,00 €" in lines
    assert "IVA 22 % (48,00 €) 10,56 €" in lines
    assert "Totale 58,56 €" in lines and "Importo pagato 58,56 €" in lines
    assert "Note" not in lines  # Italian VAT needs no legal note


def test_a_reverse_charge_invoice_in_english_says_why_there_is_no_vat(taxed,
                                                                       clock) -> None:
    lines = _upgrade_invoice_pdf(taxed, clock, GERMAN_BUSINESS, "en", name="tax-en-reverse")

    assert lines[lines.index("BILL TO") + 1:lines.index("BILL TO") + 6] == [
        "Lumen Analytics GmbH", "Torstraße 109", "10119 Berlin", "DE", "VAT ID DE814937267"]
    assert "Subtotal (net) €48.00" in lines
    assert "VAT 0 % (€48.00) €0.00" in lines
    assert "Total €48.00" in lines
    notes = lines[lines.index("Notes") + 1:]
    assert notes[0] == "Reverse charge, art. 7-ter DPR 633/72"


def test_an_invoice_without_vat_over_77_47_euros_notes_the_stamp_duty(taxed,
                                                                      clock) -> None:
    svc = taxed
    clock.set(at(2026, 4, 1))
    signed = sign_up(svc, config(currency="EUR", tier="pro"), locale="it")  # 79.00 net
    ada = admin_of(svc, signed.account.id)
    billing_details.save(svc, ada, signed.account.id, US_CONSUMER)
    clock.set(at(2026, 5, 1, 1))
    renewal.run(svc)
    renewed = invoices.invoices_of(svc, ada, signed.account.id)[0]
    assert (renewed.subtotal, renewed.total) == (7900, 7900)
    pdf = invoices.invoice_pdf(svc, ada, renewed.id)
    _png(pdf, "tax-it-outside-scope")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\xa0", " ")
    assert "Operazione non soggetta, art. 7-octies DPR 633/72" in text
    assert "Imposta di bollo assolta in modo virtuale, € 2,00" in text
    assert "Totale 79,00 €" in text  # the seller pays the stamp duty
