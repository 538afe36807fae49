"""The FatturaPA 1.2.2 file of an invoice (TD01) or credit note (TD04), format FPR12 (§8).

One `DettaglioLinee` per line (quantity 1.00, unit price = total = the line's net, with its
period), one `DatiRiepilogo` per (`AliquotaIVA`, `Natura`), stamp duty, payment. A USD
document goes to SDI in euros at the ECB rate of its date, its USD amounts kept in
`AltriDatiGestionali`; an OSS document shows 0.00 `N7` and the customer's state's VAT in
`AltriDatiGestionali`, its total being net + that VAT. The file's totals are recomputed from
its own lines before it is returned (see checks.py), so a file that SDI would refuse with
00421, 00422 or 00423 is never produced.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from lxml import etree

from canone.billing.money import ZERO, round_money
from canone.billing.parties import BillingDetails
from canone.billing.seller import Seller, Transmitter
from canone.billing.tax import DocumentDraft, TaxLine, draft_by_line
from canone.billing.vat_rates import vat_prefix
from canone.integrations.einvoice.checks import check_totals
from canone.integrations.einvoice.text import amount, latin, number, rate
from canone.services.einvoicing import (
    CARD,
    CREDIT_NOTE,
    EInvoiceDocument,
    EInvoiceFile,
    EInvoiceLine,
    ExchangeRates,
)

NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
FORMAT = "FPR12"
NO_CODE = "0000000"  # Italian customer without an SDI code: PEC or the tax drawer
ABROAD = "XXXXXXX"  # customer abroad
ANONYMOUS_ID = "99999999999"  # IdCodice of a customer abroad without a tax id
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DOCUMENT_TYPES = {"invoice": "TD01", CREDIT_NOTE: "TD04"}
PAYMENT_MEANS = {CARD: "MP08", "sepa_debit": "MP20"}


class EInvoiceError(Exception):
    """The document cannot become a valid file (e.g. its lines do not add up to it)."""


def progressive_code(progressive: int) -> str:
    """1 → "00001": five digits and capitals (36⁵ − 1 files per transmitter)."""
    if not 1 <= progressive < len(ALPHABET) ** 5:
        raise EInvoiceError(f"progressive {progressive} is outside 1 … {len(ALPHABET) ** 5 - 1}")
    code = ""
    for _ in range(5):
        progressive, digit = divmod(progressive, len(ALPHABET))
        code = ALPHABET[digit] + code
    return code


def sdi_file_name(transmitter: Transmitter, progressive: int) -> str:
    """`IT<transmitter id>_<1–5 alphanumerics>.xml`; the progressive comes from a counter
    that never gives a number twice, so a name is never reused."""
    return f"{transmitter.country}{transmitter.id}_{progressive_code(progressive)}.xml"


@dataclass(frozen=True)
class _Euros:
    """The document in euros: each line converted once, then taxed as the engine taxes."""

    lines: tuple[Decimal, ...]
    draft: DocumentDraft[_Net]
    to_eur: Callable[[Decimal], Decimal]
    rate: Decimal | None  # units of the document's currency per euro; None for EUR


@dataclass(frozen=True, slots=True)
class _Net:
    amount: Decimal


def _in_euros(document: EInvoiceDocument, rates: ExchangeRates) -> _Euros:
    own = draft_by_line([(_Net(line.amount), line.treatment) for line in document.lines])
    if own.total != document.total:
        raise EInvoiceError(f"{document.number}: its lines and tax make {own.total}, "
                            f"not its total {document.total}")
    if document.currency == "EUR":
        return _Euros(tuple(line.amount for line in document.lines), own, lambda x: x, None)
    per_euro = rates.eur_rate(document.currency, document.date)

    def to_eur(value: Decimal) -> Decimal:
        return round_money(value / per_euro)

    lines = tuple(to_eur(line.amount) for line in document.lines)
    euros = draft_by_line([(_Net(a), line.treatment) for a, line in zip(lines, document.lines,
                                                                        strict=True)])
    return _Euros(lines, euros, to_eur, per_euro)


def build_fatturapa(seller: Seller, document: EInvoiceDocument, progressive: int,
                    rates: ExchangeRates) -> EInvoiceFile:
    """The file of `document`, named with `progressive` (never reused)."""
    euros = _in_euros(document, rates)
    root = etree.Element(etree.QName(NAMESPACE, "FatturaElettronica"),
                         nsmap={"p": NAMESPACE, "ds": DSIG}, versione=FORMAT)
    header = _sub(root, "FatturaElettronicaHeader")
    _transmission(_sub(header, "DatiTrasmissione"), seller, document.customer,
                  progressive_code(progressive))
    header.append(copy.deepcopy(_seller_block(seller)))
    _customer(_sub(header, "CessionarioCommittente"), document.customer)
    body = _sub(root, "FatturaElettronicaBody")
    _general(_sub(body, "DatiGenerali"), document, euros)
    _goods_and_services(_sub(body, "DatiBeniServizi"), document, euros)
    if document.payment is not None and document.payment.amount > 0:
        terms = _sub(body, "DatiPagamento")
        _sub(terms, "CondizioniPagamento", "TP02")  # paid in full
        detail = _sub(terms, "DettaglioPagamento")
        _sub(detail, "ModalitaPagamento", PAYMENT_MEANS[document.payment.means])
        paid = euros.draft.total if document.payment.amount == document.total \
            else euros.to_eur(document.payment.amount)
        _sub(detail, "ImportoPagamento", amount(paid))
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if problems := check_totals(content):
        raise EInvoiceError(f"{document.number}: " + "; ".join(problems))
    return EInvoiceFile(sdi_file_name(seller.transmitter, progressive), content)


class FatturaPaBuilder:
    """The services' `EInvoiceBuilder`: `build_fatturapa` with the exchange rates bound."""

    def __init__(self, rates: ExchangeRates) -> None:
        self.rates = rates

    def __call__(self, seller: Seller, document: EInvoiceDocument, progressive: int
                 ) -> EInvoiceFile:
        return build_fatturapa(seller, document, progressive, self.rates)


# -- header ----------------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _fiscal_id(parent: etree._Element, tag: str, country: str, code: str) -> None:
    element = _sub(parent, tag)
    _sub(element, "IdPaese", country)
    _sub(element, "IdCodice", code)


def _transmission(element: etree._Element, seller: Seller, customer: BillingDetails,
                  code: str) -> None:
    _fiscal_id(element, "IdTrasmittente", seller.transmitter.country, seller.transmitter.id)
    _sub(element, "ProgressivoInvio", code)
    _sub(element, "FormatoTrasmissione", FORMAT)
    if customer.country != "IT":
        _sub(element, "CodiceDestinatario", ABROAD)
        return
    _sub(element, "CodiceDestinatario", customer.sdi_code or NO_CODE)
    if not customer.sdi_code and customer.pec and customer.is_business:
        _sub(element, "PECDestinatario", customer.pec)


@lru_cache(maxsize=4)
def _seller_block(seller: Seller) -> etree._Element:
    """The seller's `CedentePrestatore`, the same in each of its files: made once, and a
    copy put in each (a billing run makes hundreds of thousands)."""
    block = etree.Element("CedentePrestatore")
    _seller(block, seller)
    return block


def _seller(element: etree._Element, seller: Seller) -> None:
    data = _sub(element, "DatiAnagrafici")
    _fiscal_id(data, "IdFiscaleIVA", "IT", seller.vat_number)
    _sub(data, "CodiceFiscale", seller.tax_code)
    _sub(_sub(data, "Anagrafica"), "Denominazione", latin(seller.legal_name, 80))
    _sub(data, "RegimeFiscale", seller.tax_regime)
    _address(_sub(element, "Sede"), seller.address.street, seller.address.postcode,
             seller.address.city, seller.address.province, "IT")
    if seller.rea is not None:
        rea = _sub(element, "IscrizioneREA")
        _sub(rea, "Ufficio", seller.rea.office)
        _sub(rea, "NumeroREA", seller.rea.number)
        if seller.rea.share_capital is not None:
            _sub(rea, "CapitaleSociale", amount(seller.rea.share_capital))
        if seller.rea.sole_shareholder:
            _sub(rea, "SocioUnico", seller.rea.sole_shareholder)
        _sub(rea, "StatoLiquidazione", "LS" if seller.rea.in_liquidation else "LN")
    if seller.email:
        _sub(_sub(element, "Contatti"), "Email", seller.email)


def _customer(element: etree._Element, customer: BillingDetails) -> None:
    data = _sub(element, "DatiAnagrafici")
    italian = customer.country == "IT"
    if italian and customer.is_business and customer.vat_id:
        _fiscal_id(data, "IdFiscaleIVA", "IT", customer.vat_id.removeprefix("IT"))
    elif not italian:
        _fiscal_id(data, "IdFiscaleIVA", *_foreign_id(customer))
    if italian and customer.tax_code:
        _sub(data, "CodiceFiscale", customer.tax_code)
    registry = _sub(data, "Anagrafica")
    if customer.is_business:
        _sub(registry, "Denominazione", latin(customer.legal_name, 80))
    else:
        first, _, last = customer.legal_name.partition(" ")
        _sub(registry, "Nome", latin(first, 60))
        _sub(registry, "Cognome", latin(last or first, 60))
    a = customer.address
    if italian:
        _address(_sub(element, "Sede"), a.street, a.postcode, a.city, a.province, "IT")
    else:  # SDI wants CAP 00000 abroad; the real postcode stays with the town
        town = f"{a.postcode} {a.city}" if a.postcode else a.city
        _address(_sub(element, "Sede"), a.street, "00000", town, None, a.country)


def _foreign_id(customer: BillingDetails) -> tuple[str, str]:
    """IdPaese and IdCodice of a customer abroad: the ISO country (GR for Greece too: the
    FatturaPA specification asks for ISO 3166, not the EL of VAT ids) and a business's VAT id
    without its prefix, else 99999999999."""
    if customer.is_business and customer.vat_id:
        number = customer.vat_id.removeprefix(vat_prefix(customer.country))
        return customer.country, latin(number, 28)
    return customer.country, ANONYMOUS_ID


def _address(element: etree._Element, street: str, postcode: str, city: str,
             province: str | None, country: str) -> None:
    _sub(element, "Indirizzo", latin(street, 60))
    _sub(element, "CAP", postcode)
    _sub(element, "Comune", latin(city, 60))
    if province:
        _sub(element, "Provincia", province)
    _sub(element, "Nazione", country)


# -- body ------------------------------------------------------------------------------------


def _general(element: etree._Element, document: EInvoiceDocument, euros: _Euros) -> None:
    general = _sub(element, "DatiGeneraliDocumento")
    _sub(general, "TipoDocumento", DOCUMENT_TYPES[document.kind])
    _sub(general, "Divisa", "EUR")
    _sub(general, "Data", document.date.isoformat())
    _sub(general, "Numero", document.number)
    if document.stamp_duty > 0:
        stamp = _sub(general, "DatiBollo")
        _sub(stamp, "BolloVirtuale", "SI")
        _sub(stamp, "ImportoBollo", amount(document.stamp_duty))
    _sub(general, "ImportoTotaleDocumento", amount(euros.draft.total))
    if document.reason:
        _sub(general, "Causale", latin(document.reason, 200))
    if document.corrects is not None:
        linked = _sub(element, "DatiFattureCollegate")
        _sub(linked, "IdDocumento", document.corrects.number)
        _sub(linked, "Data", document.corrects.date.isoformat())


def _fatturapa_rate(line: TaxLine | EInvoiceLine) -> tuple[Decimal, str | None]:
    """(`AliquotaIVA`, `Natura`): Italian VAT's rate, or 0.00 with the nature of the rest."""
    treatment = line.treatment
    return (ZERO, treatment.natura) if treatment.natura else (treatment.rate, None)


def _goods_and_services(element: etree._Element, document: EInvoiceDocument,
                        euros: _Euros) -> None:
    extras = _extras(document, euros)
    for number_, (line, eur) in enumerate(zip(document.lines, euros.lines, strict=True), 1):
        detail = _sub(element, "DettaglioLinee")
        _sub(detail, "NumeroLinea", str(number_))
        _sub(detail, "Descrizione", latin(line.description, 1000))
        _sub(detail, "Quantita", "1.00")
        if line.period_start and line.period_end:
            _sub(detail, "DataInizioPeriodo", line.period_start.isoformat())
            _sub(detail, "DataFinePeriodo", line.period_end.isoformat())
        _sub(detail, "PrezzoUnitario", amount(eur))
        _sub(detail, "PrezzoTotale", amount(eur))
        aliquota, natura = _fatturapa_rate(line)
        _sub(detail, "AliquotaIVA", rate(aliquota))
        if natura:
            _sub(detail, "Natura", natura)
        if euros.rate is not None:
            _other(detail, "VALUTA", document.currency, number(line.amount))
        for tipo, text, value in extras if number_ == 1 else ():
            _other(detail, tipo, text, value)
    for key, tax_lines in _summaries(euros.draft.tax_lines).items():
        _summary(_sub(element, "DatiRiepilogo"), key, tax_lines)


def _extras(document: EInvoiceDocument, euros: _Euros) -> list[tuple[str, str, str]]:
    """What the first line also carries: the exchange rate and USD total, the OSS VAT."""
    extras = []
    if euros.rate is not None:
        extras.append(("CAMBIO", f"EUR/{document.currency} BCE {document.date.isoformat()}",
                       number(euros.rate)))
        extras.append(("TOTALE", f"Totale documento in {document.currency}",
                       amount(document.total)))
    for tax_line in euros.draft.tax_lines:
        if tax_line.treatment.natura == "N7":
            treatment = tax_line.treatment
            extras.append(("IVAOSS", f"IVA {treatment.country} {rate(treatment.rate)}% (OSS)",
                           amount(tax_line.amount)))
    return extras


def _other(detail: etree._Element, tipo: str, text: str, value: str) -> None:
    other = _sub(detail, "AltriDatiGestionali")
    _sub(other, "TipoDato", tipo)
    _sub(other, "RiferimentoTesto", latin(text, 60))
    _sub(other, "RiferimentoNumero", value)


def _summaries(tax_lines: Sequence[TaxLine]) -> dict[tuple[Decimal, str | None],
                                                     list[TaxLine]]:
    groups: dict[tuple[Decimal, str | None], list[TaxLine]] = {}
    for tax_line in tax_lines:
        groups.setdefault(_fatturapa_rate(tax_line), []).append(tax_line)
    return groups


def _summary(element: etree._Element, key: tuple[Decimal, str | None],
             tax_lines: list[TaxLine]) -> None:
    aliquota, natura = key
    _sub(element, "AliquotaIVA", rate(aliquota))
    if natura:
        _sub(element, "Natura", natura)
    _sub(element, "ImponibileImporto", amount(sum((t.taxable for t in tax_lines), ZERO)))
    # Italian VAT only: the VAT of an OSS sale is the customer's state's (AltriDatiGestionali).
    _sub(element, "Imposta", amount(sum((t.amount for t in tax_lines), ZERO) if not natura
                                    else ZERO))
    if not natura:
        _sub(element, "EsigibilitaIVA", "I")  # immediate
        return
    notes = dict.fromkeys(_legal_reference(t) for t in tax_lines)
    _sub(element, "RiferimentoNormativo", latin("; ".join(notes), 100))


def _legal_reference(tax_line: TaxLine) -> str:
    if tax_line.treatment.natura == "N7":
        return "IVA assolta in altro Stato UE (OSS), art. 74-sexies DPR 633/72"
    return tax_line.note_text("it")

