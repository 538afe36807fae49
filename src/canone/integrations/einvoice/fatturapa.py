"""The FatturaPA 1.2.2 file of an invoice (TD01) or credit note (TD04), format FPR12 (§8).

One `DettaglioLinee` per line (quantity 1.00, unit price = total = the line's net, with its
period), one `DatiRiepilogo` per (`AliquotaIVA`, `Natura`), stamp duty, payment. A USD
document goes to SDI in euros at the ECB rate of its date, its USD amounts kept in
`AltriDatiGestionali`; an OSS document shows 0.00 `N7` and the customer's state's VAT in
`AltriDatiGestionali`, its total being net + that VAT. The file's totals are recomputed from
the texts of its lines and summaries as written, before it is returned (`checks`), so a
file that SDI would refuse with 00421, 00422 or 00423 is never produced. Written as text
(`xmltext`), byte for byte what lxml writes for the same tree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from canone.billing.frozen import quick_init
from canone.billing.money import ZERO, round_money
from canone.billing.parties import BillingDetails
from canone.billing.seller import Seller, Transmitter
from canone.billing.tax import DocumentDraft, TaxLine, draft_by_line
from canone.billing.vat_rates import vat_prefix
from canone.integrations.einvoice.checks import Line, check_amounts
from canone.integrations.einvoice.text import amount, latin, number, rate
from canone.integrations.einvoice.xmltext import XmlText
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


@quick_init
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


_OPENING = (f"<?xml version='1.0' encoding='UTF-8'?>\n<p:FatturaElettronica xmlns:p="
            f'"{NAMESPACE}" xmlns:ds="{DSIG}" versione="{FORMAT}">\n')
_CLOSING = "</p:FatturaElettronica>\n"


def build_fatturapa(seller: Seller, document: EInvoiceDocument, progressive: int,
                    rates: ExchangeRates) -> EInvoiceFile:
    """The file of `document`, named with `progressive` (never reused). Written as text
    (`XmlText`: the bytes lxml would write for the same tree), the seller's part once per
    seller; its amounts checked from the texts written before it is returned."""
    euros = _in_euros(document, rates)
    x = XmlText(1)
    x.open("FatturaElettronicaHeader")
    x.open("DatiTrasmissione")
    _transmission(x, seller, document.customer, progressive_code(progressive))
    x.close("DatiTrasmissione")
    x.raw(_seller_block(seller))
    x.open("CessionarioCommittente")
    _customer(x, document.customer)
    x.close("CessionarioCommittente")
    x.close("FatturaElettronicaHeader")
    x.open("FatturaElettronicaBody")
    x.open("DatiGenerali")
    stated = _general(x, document, euros)
    x.close("DatiGenerali")
    x.open("DatiBeniServizi")
    lines, summaries = _goods_and_services(x, document, euros)
    x.close("DatiBeniServizi")
    if document.payment is not None and document.payment.amount > 0:
        x.open("DatiPagamento")
        x.leaf("CondizioniPagamento", "TP02")  # paid in full
        x.open("DettaglioPagamento")
        x.leaf("ModalitaPagamento", PAYMENT_MEANS[document.payment.means])
        paid = euros.draft.total if document.payment.amount == document.total \
            else euros.to_eur(document.payment.amount)
        x.leaf("ImportoPagamento", amount(paid))
        x.close("DettaglioPagamento")
        x.close("DatiPagamento")
    x.close("FatturaElettronicaBody")
    if problems := check_amounts(lines, summaries, stated):
        raise EInvoiceError(f"{document.number}: " + "; ".join(problems))
    content = (_OPENING + x.text() + _CLOSING).encode("utf-8")
    return EInvoiceFile(sdi_file_name(seller.transmitter, progressive), content)


class FatturaPaBuilder:
    """The services' `EInvoiceBuilder`: `build_fatturapa` with the exchange rates bound."""

    def __init__(self, rates: ExchangeRates) -> None:
        self.rates = rates

    def __call__(self, seller: Seller, document: EInvoiceDocument, progressive: int
                 ) -> EInvoiceFile:
        return build_fatturapa(seller, document, progressive, self.rates)


# -- header ----------------------------------------------------------------------------------


def _fiscal_id(x: XmlText, tag: str, country: str, code: str) -> None:
    x.open(tag)
    x.leaf("IdPaese", country)
    x.leaf("IdCodice", code)
    x.close(tag)


def _transmission(x: XmlText, seller: Seller, customer: BillingDetails, code: str) -> None:
    _fiscal_id(x, "IdTrasmittente", seller.transmitter.country, seller.transmitter.id)
    x.leaf("ProgressivoInvio", code)
    x.leaf("FormatoTrasmissione", FORMAT)
    if customer.country != "IT":
        x.leaf("CodiceDestinatario", ABROAD)
        return
    x.leaf("CodiceDestinatario", customer.sdi_code or NO_CODE)
    if not customer.sdi_code and customer.pec and customer.is_business:
        x.leaf("PECDestinatario", customer.pec)


@lru_cache(maxsize=4)
def _seller_block(seller: Seller) -> str:
    """The seller's `CedentePrestatore`, the same in each of its files: written once (a
    billing run makes hundreds of thousands)."""
    x = XmlText(2)
    x.open("CedentePrestatore")
    data = "DatiAnagrafici"
    x.open(data)
    _fiscal_id(x, "IdFiscaleIVA", "IT", seller.vat_number)
    x.leaf("CodiceFiscale", seller.tax_code)
    x.open("Anagrafica")
    x.leaf("Denominazione", latin(seller.legal_name, 80))
    x.close("Anagrafica")
    x.leaf("RegimeFiscale", seller.tax_regime)
    x.close(data)
    _address(x, seller.address.street, seller.address.postcode, seller.address.city,
             seller.address.province, "IT")
    if seller.rea is not None:
        x.open("IscrizioneREA")
        x.leaf("Ufficio", seller.rea.office)
        x.leaf("NumeroREA", seller.rea.number)
        if seller.rea.share_capital is not None:
            x.leaf("CapitaleSociale", amount(seller.rea.share_capital))
        if seller.rea.sole_shareholder:
            x.leaf("SocioUnico", seller.rea.sole_shareholder)
        x.leaf("StatoLiquidazione", "LS" if seller.rea.in_liquidation else "LN")
        x.close("IscrizioneREA")
    if seller.email:
        x.open("Contatti")
        x.leaf("Email", seller.email)
        x.close("Contatti")
    x.close("CedentePrestatore")
    return x.text()


def _customer(x: XmlText, customer: BillingDetails) -> None:
    x.open("DatiAnagrafici")
    italian = customer.country == "IT"
    if italian and customer.is_business and customer.vat_id:
        _fiscal_id(x, "IdFiscaleIVA", "IT", customer.vat_id.removeprefix("IT"))
    elif not italian:
        _fiscal_id(x, "IdFiscaleIVA", *_foreign_id(customer))
    if italian and customer.tax_code:
        x.leaf("CodiceFiscale", customer.tax_code)
    x.open("Anagrafica")
    if customer.is_business:
        x.leaf("Denominazione", latin(customer.legal_name, 80))
    else:
        first, _, last = customer.legal_name.partition(" ")
        x.leaf("Nome", latin(first, 60))
        x.leaf("Cognome", latin(last or first, 60))
    x.close("Anagrafica")
    x.close("DatiAnagrafici")
    a = customer.address
    if italian:
        _address(x, a.street, a.postcode, a.city, a.province, "IT")
    else:  # SDI wants CAP 00000 abroad; the real postcode stays with the town
        town = f"{a.postcode} {a.city}" if a.postcode else a.city
        _address(x, a.street, "00000", town, None, a.country)


def _foreign_id(customer: BillingDetails) -> tuple[str, str]:
    """IdPaese and IdCodice of a customer abroad: the ISO country (GR for Greece too: the
    FatturaPA specification asks for ISO 3166, not the EL of VAT ids) and a business's VAT id
    without its prefix, else 99999999999."""
    if customer.is_business and customer.vat_id:
        number = customer.vat_id.removeprefix(vat_prefix(customer.country))
        return customer.country, latin(number, 28)
    return customer.country, ANONYMOUS_ID


def _address(x: XmlText, street: str, postcode: str, city: str, province: str | None,
             country: str) -> None:
    x.open("Sede")
    x.leaf("Indirizzo", latin(street, 60))
    x.leaf("CAP", postcode)
    x.leaf("Comune", latin(city, 60))
    if province:
        x.leaf("Provincia", province)
    x.leaf("Nazione", country)
    x.close("Sede")


# -- body ------------------------------------------------------------------------------------


def _general(x: XmlText, document: EInvoiceDocument, euros: _Euros) -> str:
    """`DatiGenerali`'s content; the `ImportoTotaleDocumento` written."""
    x.open("DatiGeneraliDocumento")
    x.leaf("TipoDocumento", DOCUMENT_TYPES[document.kind])
    x.leaf("Divisa", "EUR")
    x.leaf("Data", document.date.isoformat())
    x.leaf("Numero", document.number)
    if document.stamp_duty > 0:
        x.open("DatiBollo")
        x.leaf("BolloVirtuale", "SI")
        x.leaf("ImportoBollo", amount(document.stamp_duty))
        x.close("DatiBollo")
    total = amount(euros.draft.total)
    x.leaf("ImportoTotaleDocumento", total)
    if document.reason:
        x.leaf("Causale", latin(document.reason, 200))
    x.close("DatiGeneraliDocumento")
    if document.corrects is not None:
        x.open("DatiFattureCollegate")
        x.leaf("IdDocumento", document.corrects.number)
        x.leaf("Data", document.corrects.date.isoformat())
        x.close("DatiFattureCollegate")
    return total


def _fatturapa_rate(line: TaxLine | EInvoiceLine) -> tuple[Decimal, str | None]:
    """(`AliquotaIVA`, `Natura`): Italian VAT's rate, or 0.00 with the nature of the rest."""
    treatment = line.treatment
    return (ZERO, treatment.natura) if treatment.natura else (treatment.rate, None)


def _goods_and_services(x: XmlText, document: EInvoiceDocument, euros: _Euros
                        ) -> tuple[list[Line], list[dict[str, str]]]:
    """`DatiBeniServizi`'s content; the texts of its lines and summaries, for the check."""
    extras = _extras(document, euros)
    lines = []
    for number_, (line, eur) in enumerate(zip(document.lines, euros.lines, strict=True), 1):
        fields = {"NumeroLinea": str(number_), "Descrizione": latin(line.description, 1000),
                  "Quantita": "1.00"}
        if line.period_start and line.period_end:
            fields["DataInizioPeriodo"] = line.period_start.isoformat()
            fields["DataFinePeriodo"] = line.period_end.isoformat()
        fields["PrezzoUnitario"] = fields["PrezzoTotale"] = amount(eur)
        aliquota, natura = _fatturapa_rate(line)
        fields["AliquotaIVA"] = rate(aliquota)
        if natura:
            fields["Natura"] = natura
        others = [{"TipoDato": "VALUTA", "RiferimentoTesto": latin(document.currency, 60),
                   "RiferimentoNumero": number(line.amount)}] if euros.rate is not None else []
        others += [{"TipoDato": tipo, "RiferimentoTesto": latin(text, 60),
                    "RiferimentoNumero": value} for tipo, text, value in
                   (extras if number_ == 1 else ())]
        x.open("DettaglioLinee")
        x.leaves(fields)
        for other in others:
            x.open("AltriDatiGestionali")
            x.leaves(other)
            x.close("AltriDatiGestionali")
        x.close("DettaglioLinee")
        lines.append(Line(fields, others))
    summaries = [_summary(key, tax_lines)
                 for key, tax_lines in _summaries(euros.draft.tax_lines).items()]
    for summary in summaries:
        x.open("DatiRiepilogo")
        x.leaves(summary)
        x.close("DatiRiepilogo")
    return lines, summaries


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


def _summaries(tax_lines: Sequence[TaxLine]) -> dict[tuple[Decimal, str | None],
                                                     list[TaxLine]]:
    groups: dict[tuple[Decimal, str | None], list[TaxLine]] = {}
    for tax_line in tax_lines:
        groups.setdefault(_fatturapa_rate(tax_line), []).append(tax_line)
    return groups


def _summary(key: tuple[Decimal, str | None], tax_lines: list[TaxLine]) -> dict[str, str]:
    """A `DatiRiepilogo`'s fields, in the schema's order."""
    aliquota, natura = key
    fields = {"AliquotaIVA": rate(aliquota)}
    if natura:
        fields["Natura"] = natura
    fields["ImponibileImporto"] = amount(sum((t.taxable for t in tax_lines), ZERO))
    # Italian VAT only: the VAT of an OSS sale is the customer's state's (AltriDatiGestionali).
    fields["Imposta"] = amount(sum((t.amount for t in tax_lines), ZERO) if not natura
                               else ZERO)
    if not natura:
        fields["EsigibilitaIVA"] = "I"  # immediate
        return fields
    notes = dict.fromkeys(_legal_reference(t) for t in tax_lines)
    fields["RiferimentoNormativo"] = latin("; ".join(notes), 100)
    return fields


def _legal_reference(tax_line: TaxLine) -> str:
    if tax_line.treatment.natura == "N7":
        return "IVA assolta in altro Stato UE (OSS), art. 74-sexies DPR 633/72"
    return tax_line.note_text("it")

