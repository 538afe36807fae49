"""What an invoice says about its parties and its tax (SPEC §8), in the account's language:
the seller's and the customer's lines as a letterhead and an address block print them, one
row per tax rate, and the legal notes a document without Italian VAT must carry."""

from __future__ import annotations

from collections.abc import Sequence

from canone.billing.money import from_minor
from canone.billing.parties import Address, BillingDetails
from canone.billing.seller import Seller
from canone.billing.tax import NO_VAT_NATURE, TaxLine, stamp_duty
from canone.services.ports import DocumentTaxLine
from canone.services.records import InvoiceTaxLine

_LABELS: dict[str, dict[str, str]] = {
    "en": {"vat_id": "VAT ID", "it_vat_id": "VAT ID", "tax_code": "Tax code",
           "sdi_code": "SDI code", "pec": "PEC", "rea": "REA", "share_capital": "Share capital",
           "no_vat": "VAT {rate} %",
           "stamp": "Virtual stamp duty of €2.00 paid by the seller (art. 6 DM 17/06/2014)."},
    "it": {"vat_id": "Partita IVA", "it_vat_id": "P.IVA", "tax_code": "C.F.",
           "sdi_code": "Codice SDI", "pec": "PEC", "rea": "REA", "share_capital": "Cap. soc.",
           "no_vat": "IVA {rate} %",
           "stamp": "Imposta di bollo assolta in modo virtuale, € 2,00 (art. 6 DM 17/06/2014)."},
}


def _labels(locale: str) -> dict[str, str]:
    return _LABELS.get(locale, _LABELS["en"])


def address_lines(a: Address) -> tuple[str, ...]:
    """"Via Tortona 27", "20144 Milano MI", and the country abroad: "10119 Berlin", "DE"."""
    town = " ".join(part for part in (a.postcode, a.city, a.province or "") if part)
    return (a.street, town) if a.country == "IT" else (a.street, town, a.country)


def seller_lines(seller: Seller, locale: str) -> tuple[str, ...]:
    """Under the seller's name: its address, VAT number, codice fiscale when it differs,
    and its REA entry (an Italian company's letterhead must show them)."""
    words = _labels(locale)
    lines = [*address_lines(seller.address), f"{words['it_vat_id']} {seller.vat_id}"]
    if seller.tax_code != seller.vat_number:
        lines.append(f"{words['tax_code']} {seller.tax_code}")
    if seller.rea is not None:
        lines.append(f"{words['rea']} {seller.rea.office}-{seller.rea.number}")
    return tuple(lines)


def customer_lines(customer: BillingDetails, locale: str) -> tuple[str, ...]:
    """Under the customer's legal name: address and the ids its documents must name."""
    words = _labels(locale)
    lines = list(address_lines(customer.address))
    if customer.vat_id:
        lines.append(f"{words['vat_id']} {customer.vat_id}")
    if customer.tax_code:
        lines.append(f"{words['tax_code']} {customer.tax_code}")
    if customer.sdi_code:
        lines.append(f"{words['sdi_code']} {customer.sdi_code}")
    if customer.pec:
        lines.append(f"{words['pec']} {customer.pec}")
    return tuple(lines)


def tax_rows(tax_lines: Sequence[InvoiceTaxLine], locale: str) -> tuple[DocumentTaxLine, ...]:
    """One row per rate: "IVA 22 %", "VAT FR 20 %"; a line without VAT shows its 0 % and
    says why in the notes (`legal_notes`)."""
    rows = []
    for line in tax_lines:
        treatment = line.treatment
        if treatment.natura in NO_VAT_NATURE:
            label = _labels(locale)["no_vat"].format(rate=0)
        else:
            label = treatment.note_text(locale)
        rows.append(DocumentTaxLine(label, from_minor(line.taxable), from_minor(line.amount)))
    return tuple(rows)


def legal_notes(tax_lines: Sequence[InvoiceTaxLine], currency: str,
                locale: str) -> tuple[str, ...]:
    """Why a document charges no VAT (reverse charge, outside the scope: the article of DPR
    633/72), and the virtual stamp duty such a document over €77.47 carries. The stamp is
    decided here for euro documents only: a dollar document's needs the ECB rate of its
    date, which the e-invoice knows."""
    notes = [line.treatment.note_text(locale) for line in tax_lines
             if line.treatment.natura in NO_VAT_NATURE]
    notes = list(dict.fromkeys(notes))  # once each, in order
    taxed = [TaxLine(line.treatment, from_minor(line.taxable), from_minor(line.amount))
             for line in tax_lines]
    if currency == "EUR" and stamp_duty(taxed):
        notes.append(_labels(locale)["stamp"])
    return tuple(notes)
