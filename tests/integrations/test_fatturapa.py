"""FatturaPA 1.2.2 files (SPEC §8): every customer kind, invoice and credit note, EUR and
USD, stamp duty. Each file made here is validated against the official schema, offline, and
its totals are recomputed from its own lines as SDI does (00421, 00422, 00423)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import xmlschema
from lxml import etree

from canone.billing.parties import Address, BillingDetails
from canone.billing.tax import draft, stamp_duty, treatment_for
from canone.billing.vat_rates import default_vat_rates
from canone.integrations.einvoice.checks import check_totals
from canone.integrations.einvoice.fatturapa import (
    EInvoiceError,
    build_fatturapa,
    progressive_code,
)
from canone.integrations.einvoice.rates import FixedExchangeRates
from canone.integrations.einvoice.text import latin
from canone.services import einvoicing
from canone.services.sellers import seller_in_effect
from fatturapa_schema import fatturapa_schema

SELLER = seller_in_effect(None)
RATES = default_vat_rates()
DAY = date(2026, 3, 16)
ECB = FixedExchangeRates({"USD": {date(2026, 3, 13): Decimal("1.0812")}})  # a Friday's rate

MILANO = Address("Via Torino 10", "20123", "Milano", "MI", "IT")
IT_BUSINESS = BillingDetails("business", "Bottega Digitale S.r.l.", MILANO,
                             vat_id="IT00743110157", tax_code="00743110157", sdi_code="M5UXCR1")
IT_BUSINESS_PEC = BillingDetails("business", "Bottega Digitale S.r.l.", MILANO,
                                 vat_id="IT00743110157", pec="fatture@pec.bottega.it")
IT_BUSINESS_BARE = BillingDetails("business", "Bottega Digitale S.r.l.", MILANO,
                                  vat_id="IT00743110157")
IT_CONSUMER = BillingDetails("consumer", "Mario Rossi", Address(
    "Via Appia 3", "00184", "Roma", "RM", "IT"), tax_code="RSSMRA85T10A562S")
DE_BUSINESS = BillingDetails("business", "Nordwind GmbH", Address(
    "Unter den Linden 5", "10117", "Berlin", None, "DE"), vat_id="DE136695976")
GR_BUSINESS = BillingDetails("business", "Ελληνική Εταιρεία Α.Ε.", Address(
    "Odos Ermou 10", "10563", "Athens", None, "GR"), vat_id="EL094259216")
FR_CONSUMER = BillingDetails("consumer", "Camille Martin", Address(
    "1 rue de Rivoli", "75001", "Paris", None, "FR"))
US_BUSINESS = BillingDetails("business", "Blue Harbor Inc.", Address(
    "100 Congress Ave", "78701", "Austin", "TX", "US"), vat_id="123456789")
US_CONSUMER = BillingDetails("consumer", "John Smith", Address(
    "5th Avenue 1", "10001", "New York", "NY", "US"))

MARCH = (date(2026, 3, 16), date(2026, 4, 14))
UPGRADE = [("Marketing Plus, unused time", Decimal("-24.50")),
           ("Marketing Enterprise, 1,000 contacts, remaining time", Decimal("72.50"))]
RENEWAL = [("Marketing Enterprise, 1,000 contacts, monthly", Decimal("145.00"))]


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return fatturapa_schema()


def document(customer: BillingDetails, lines: list[tuple[str, Decimal]], *,
             confirmed: bool = True, oss: bool = True, currency: str = "EUR",
             kind: str = einvoicing.INVOICE, paid: str | None = einvoicing.CARD,
             **more: object) -> einvoicing.EInvoiceDocument:
    """A document as the services will issue it: one treatment from the tax engine."""
    treatment = treatment_for(customer.tax_customer(confirmed), seller_oss=oss, on=DAY,
                              rates=RATES)
    made = draft([einvoicing.EInvoiceLine(text, amount, treatment, *MARCH)
                  for text, amount in lines], treatment)
    def to_eur(x: Decimal) -> Decimal:
        return (x / ECB.eur_rate(currency, DAY)).quantize(Decimal("0.01"))
    duty = stamp_duty(made.tax_lines, None if currency == "EUR" else to_eur)
    payment = einvoicing.EInvoicePayment(paid, made.total) if paid else None
    number = "NC-2026-000001" if kind == einvoicing.CREDIT_NOTE else "2026-000042"
    return einvoicing.EInvoiceDocument(kind, number, DAY, currency, customer, made.lines,
                                       made.total, duty, payment, **more)


@pytest.fixture
def build(schema: xmlschema.XMLSchema) -> Iterator:
    """Builds a file, and checks it as SDI would: the schema, then the arithmetic."""
    made: list[einvoicing.EInvoiceFile] = []

    def build_(doc: einvoicing.EInvoiceDocument, progressive: int = 1) -> etree._Element:
        file = build_fatturapa(SELLER, doc, progressive, ECB)
        made.append(file)
        schema.validate(etree.fromstring(file.content))
        assert check_totals(file.content) == []
        return etree.fromstring(file.content)

    yield build_
    assert made, "every test builds at least one file"


def text(root: etree._Element, path: str) -> str | None:
    return root.findtext(path)


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.findall(path)]


HEAD = "FatturaElettronicaHeader/"
CUSTOMER = HEAD + "CessionarioCommittente/"
GENERAL = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/"
LINES = "FatturaElettronicaBody/DatiBeniServizi/DettaglioLinee"
SUMMARY = "FatturaElettronicaBody/DatiBeniServizi/DatiRiepilogo/"
PAYMENT = "FatturaElettronicaBody/DatiPagamento/"


# -- Italian customers -----------------------------------------------------------------------


def test_an_italian_business_with_an_sdi_code_gets_the_48_00_upgrade_with_22_percent(
        build) -> None:
    root = build(document(IT_BUSINESS, UPGRADE))
    assert root.get("versione") == "FPR12"
    assert text(root, HEAD + "DatiTrasmissione/CodiceDestinatario") == "M5UXCR1"
    assert root.find(HEAD + "DatiTrasmissione/PECDestinatario") is None
    assert texts(root, CUSTOMER + "DatiAnagrafici/IdFiscaleIVA/*") == ["IT", "00743110157"]
    assert text(root, CUSTOMER + "DatiAnagrafici/CodiceFiscale") == "00743110157"
    assert text(root, CUSTOMER + "DatiAnagrafici/Anagrafica/Denominazione") == (
        "Bottega Digitale S.r.l.")
    assert texts(root, CUSTOMER + "Sede/*") == [
        "Via Torino 10", "20123", "Milano", "MI", "IT"]
    assert texts(root, GENERAL + "*") == ["TD01", "EUR", "2026-03-16", "2026-000042", "58.56"]
    assert [texts(line, "*") for line in root.findall(LINES)] == [
        ["1", "Marketing Plus, unused time", "1.00", "2026-03-16", "2026-04-14", "-24.50",
         "-24.50", "22.00"],
        ["2", "Marketing Enterprise, 1,000 contacts, remaining time", "1.00", "2026-03-16",
         "2026-04-14", "72.50", "72.50", "22.00"]]
    assert texts(root, SUMMARY + "*") == ["22.00", "48.00", "10.56", "I"]
    assert text(root, PAYMENT + "CondizioniPagamento") == "TP02"
    assert texts(root, PAYMENT + "DettaglioPagamento/*") == ["MP08", "58.56"]


def test_an_italian_business_with_a_pec_only_is_sent_to_0000000_and_its_pec(build) -> None:
    root = build(document(IT_BUSINESS_PEC, RENEWAL, paid=einvoicing.SEPA_DEBIT))
    assert text(root, HEAD + "DatiTrasmissione/CodiceDestinatario") == "0000000"
    assert text(root, HEAD + "DatiTrasmissione/PECDestinatario") == "fatture@pec.bottega.it"
    assert texts(root, PAYMENT + "DettaglioPagamento/*") == ["MP20", "176.90"]


def test_an_italian_business_with_neither_finds_the_file_in_its_tax_drawer(build) -> None:
    root = build(document(IT_BUSINESS_BARE, RENEWAL))
    assert text(root, HEAD + "DatiTrasmissione/CodiceDestinatario") == "0000000"
    assert root.find(HEAD + "DatiTrasmissione/PECDestinatario") is None


def test_an_italian_consumer_is_named_by_codice_fiscale_first_and_last_name(build) -> None:
    root = build(document(IT_CONSUMER, RENEWAL))
    assert text(root, HEAD + "DatiTrasmissione/CodiceDestinatario") == "0000000"
    assert root.find(CUSTOMER + "DatiAnagrafici/IdFiscaleIVA") is None
    assert text(root, CUSTOMER + "DatiAnagrafici/CodiceFiscale") == "RSSMRA85T10A562S"
    assert texts(root, CUSTOMER + "DatiAnagrafici/Anagrafica/*") == ["Mario", "Rossi"]
    assert texts(root, SUMMARY + "*") == ["22.00", "145.00", "31.90", "I"]
    assert text(root, GENERAL + "ImportoTotaleDocumento") == "176.90"


# -- customers abroad ------------------------------------------------------------------------


def test_a_german_business_is_reverse_charged_and_a_renewal_carries_the_stamp_duty(
        build) -> None:
    root = build(document(DE_BUSINESS, RENEWAL))
    assert text(root, HEAD + "DatiTrasmissione/CodiceDestinatario") == "XXXXXXX"
    assert texts(root, CUSTOMER + "DatiAnagrafici/IdFiscaleIVA/*") == ["DE", "136695976"]
    assert texts(root, CUSTOMER + "Sede/*") == [
        "Unter den Linden 5", "00000", "10117 Berlin", "DE"]
    assert texts(root, f"{LINES}/AliquotaIVA") + texts(root, f"{LINES}/Natura") == [
        "0.00", "N2.1"]
    assert texts(root, SUMMARY + "*") == [
        "0.00", "N2.1", "145.00", "0.00", "Inversione contabile, art. 7-ter DPR 633/72"]
    assert texts(root, GENERAL + "DatiBollo/*") == ["SI", "2.00"]
    assert text(root, GENERAL + "ImportoTotaleDocumento") == "145.00"


def test_no_stamp_duty_under_77_48_euros(build) -> None:
    root = build(document(DE_BUSINESS, UPGRADE))
    assert root.find(GENERAL + "DatiBollo") is None
    assert text(root, GENERAL + "ImportoTotaleDocumento") == "48.00"


def test_a_greek_business_is_identified_by_iso_gr_its_vat_number_and_its_name_in_latin(
        build) -> None:
    root = build(document(GR_BUSINESS, UPGRADE))
    assert texts(root, CUSTOMER + "DatiAnagrafici/IdFiscaleIVA/*") == ["GR", "094259216"]
    assert text(root, CUSTOMER + "Sede/Nazione") == "GR"
    assert text(root, CUSTOMER + "DatiAnagrafici/Anagrafica/Denominazione") == (
        "Elliniki Etaireia A.E.")  # the schema allows Latin-1 only: ELOT 743


def test_a_french_consumer_under_oss_shows_n7_and_the_french_vat_apart(build) -> None:
    root = build(document(FR_CONSUMER, UPGRADE, oss=True))
    assert texts(root, CUSTOMER + "DatiAnagrafici/IdFiscaleIVA/*") == ["FR", "99999999999"]
    assert texts(root, CUSTOMER + "DatiAnagrafici/Anagrafica/*") == ["Camille", "Martin"]
    assert text(root, HEAD + "DatiTrasmissione/CodiceDestinatario") == "XXXXXXX"
    assert texts(root, SUMMARY + "*") == [
        "0.00", "N7", "48.00", "0.00",
        "IVA assolta in altro Stato UE (OSS), art. 74-sexies DPR 633/72"]
    first = root.findall(LINES)[0]
    assert [texts(other, "*") for other in first.findall("AltriDatiGestionali")] == [
        ["IVAOSS", "IVA FR 20.00% (OSS)", "9.60"]]
    assert text(root, GENERAL + "ImportoTotaleDocumento") == "57.60"
    assert texts(root, PAYMENT + "DettaglioPagamento/*") == ["MP08", "57.60"]


def test_a_french_consumer_of_a_seller_without_oss_pays_italian_vat(build) -> None:
    root = build(document(FR_CONSUMER, UPGRADE, oss=False))
    assert texts(root, SUMMARY + "*") == ["22.00", "48.00", "10.56", "I"]


def test_a_us_business_and_a_us_consumer_are_outside_the_scope_n2_1_and_n2_2(build) -> None:
    business = build(document(US_BUSINESS, UPGRADE))
    assert texts(business, CUSTOMER + "DatiAnagrafici/IdFiscaleIVA/*") == ["US", "123456789"]
    assert texts(business, SUMMARY + "*") == [
        "0.00", "N2.1", "48.00", "0.00", "Operazione non soggetta, art. 7-ter DPR 633/72"]
    consumer = build(document(US_CONSUMER, UPGRADE), progressive=2)
    assert texts(consumer, CUSTOMER + "DatiAnagrafici/IdFiscaleIVA/*") == ["US", "99999999999"]
    assert texts(consumer, SUMMARY + "*") == [
        "0.00", "N2.2", "48.00", "0.00", "Operazione non soggetta, art. 7-octies DPR 633/72"]


# -- USD -------------------------------------------------------------------------------------


def test_a_usd_document_goes_in_euros_at_the_ecb_rate_with_its_usd_amounts_kept(build) -> None:
    root = build(document(US_BUSINESS, RENEWAL, currency="USD"))
    assert text(root, GENERAL + "Divisa") == "EUR"
    line = root.findall(LINES)[0]
    assert texts(line, "PrezzoTotale") == ["134.11"]  # 145.00 / 1.0812 = 134.1102…
    assert [texts(other, "*") for other in line.findall("AltriDatiGestionali")] == [
        ["VALUTA", "USD", "145.00"],
        ["CAMBIO", "EUR/USD BCE 2026-03-16", "1.0812"],
        ["TOTALE", "Totale documento in USD", "145.00"]]
    assert texts(root, SUMMARY + "*")[:4] == ["0.00", "N2.1", "134.11", "0.00"]
    assert texts(root, GENERAL + "DatiBollo/*") == ["SI", "2.00"]  # 134.11 EUR > 77.47
    assert texts(root, PAYMENT + "DettaglioPagamento/*") == ["MP08", "134.11"]


def test_a_usd_document_under_77_48_euros_carries_no_stamp_duty(build) -> None:
    root = build(document(US_BUSINESS, [("Marketing Plus, monthly", Decimal("84.00"))],
                          currency="USD"))
    assert text(root, GENERAL + "ImportoTotaleDocumento") == "77.69"  # 84 / 1.0812
    assert root.find(GENERAL + "DatiBollo") is not None  # 77.69 > 77.47
    small = build(document(US_BUSINESS, [("Marketing Plus, monthly", Decimal("83.70"))],
                           currency="USD"), progressive=2)
    assert text(small, GENERAL + "ImportoTotaleDocumento") == "77.41"
    assert small.find(GENERAL + "DatiBollo") is None


def test_an_italian_usd_document_taxes_the_converted_lines(build) -> None:
    root = build(document(IT_BUSINESS, UPGRADE, currency="USD"))
    assert [texts(line, "PrezzoTotale")[0] for line in root.findall(LINES)] == [
        "-22.66", "67.06"]  # -24.50 and 72.50 USD at 1.0812: -22.6600…, 67.0551…
    assert texts(root, SUMMARY + "*") == ["22.00", "44.40", "9.77", "I"]  # 9.768
    assert text(root, GENERAL + "ImportoTotaleDocumento") == "54.17"


# -- credit notes ----------------------------------------------------------------------------


def test_a_credit_note_is_td04_and_names_the_invoice_it_corrects(build) -> None:
    corrected = einvoicing.CorrectedInvoice("2026-000042", date(2026, 3, 1))
    root = build(document(IT_BUSINESS, [("Marketing Plus, unused time", Decimal("24.50"))],
                          kind=einvoicing.CREDIT_NOTE, paid=None, corrects=corrected,
                          reason="Storno del tempo non usato"))
    assert texts(root, GENERAL + "*") == [
        "TD04", "EUR", "2026-03-16", "NC-2026-000001", "29.89", "Storno del tempo non usato"]
    assert texts(root, "FatturaElettronicaBody/DatiGenerali/DatiFattureCollegate/*") == [
        "2026-000042", "2026-03-01"]
    assert texts(root, SUMMARY + "*") == ["22.00", "24.50", "5.39", "I"]
    assert root.find("FatturaElettronicaBody/DatiPagamento") is None


def test_a_credit_note_to_a_customer_abroad_in_usd_validates_too(build) -> None:
    corrected = einvoicing.CorrectedInvoice("2026-000007", date(2026, 2, 16))
    root = build(document(DE_BUSINESS, RENEWAL, kind=einvoicing.CREDIT_NOTE, currency="USD",
                          corrects=corrected))
    assert text(root, GENERAL + "TipoDocumento") == "TD04"
    assert texts(root, GENERAL + "DatiBollo/*") == ["SI", "2.00"]


# -- names, refusals, the totals check -------------------------------------------------------


def test_the_file_name_is_the_transmitter_and_a_progressive_of_five_alphanumerics() -> None:
    file = build_fatturapa(SELLER, document(IT_BUSINESS, UPGRADE), 1, ECB)
    assert file.file_name == "IT12345670017_00001.xml"
    assert etree.fromstring(file.content).findtext(
        HEAD + "DatiTrasmissione/ProgressivoInvio") == "00001"
    assert [progressive_code(n) for n in (35, 36, 36**5 - 1)] == ["0000Z", "00010", "ZZZZZ"]
    for bad in (0, 36**5):
        with pytest.raises(EInvoiceError):
            progressive_code(bad)


def test_a_document_whose_lines_do_not_make_its_total_is_refused() -> None:
    doc = document(IT_BUSINESS, UPGRADE)
    wrong = einvoicing.EInvoiceDocument(doc.kind, doc.number, doc.date, doc.currency, doc.customer,
                                        doc.lines, Decimal("58.55"))
    with pytest.raises(EInvoiceError) as error:
        build_fatturapa(SELLER, wrong, 1, ECB)
    assert str(error.value) == "2026-000042: its lines and tax make 58.56, not its total 58.55"


def test_the_totals_check_finds_what_sdi_would_reject() -> None:
    content = build_fatturapa(SELLER, document(IT_BUSINESS, UPGRADE), 1, ECB).content
    tampered = (content.replace(b"<Imposta>10.56</Imposta>", b"<Imposta>10.60</Imposta>")
                .replace(b"<PrezzoTotale>72.50</PrezzoTotale>",
                         b"<PrezzoTotale>72.60</PrezzoTotale>"))
    assert check_totals(tampered) == [
        "00423 line 2: PrezzoTotale 72.60 is not 72.50",
        "00422 summary 22.00: ImponibileImporto 48.00 is not the sum of its lines",
        "00421 summary 22.00: Imposta 10.60 is not 22.00 % of 48.00",
        "ImportoTotaleDocumento 58.56 is not 58.60",
    ]


@pytest.mark.parametrize(("typed", "written"), [
    ("Ελληνική Εταιρεία Α.Ε.", "Elliniki Etaireia A.E."),
    ("Българска Компания ЕООД", "Balgarska Kompaniya EOOD"),
    ("Łódź – Żółć Sp. z o.o.", "Lódz - Zólc Sp. z o.o."),
    ("Città  di\tCastello", "Città di Castello"),
    ("株式会社", "????"),
    ("Nota\x00\x07 bene\u200b", "Nota bene"),  # controls have no place in XML text
    ("  Officina\n Verde S.r.l. ", "Officina Verde S.r.l."),  # ASCII: kept as typed
    ("Rossi\x7f & Figli", "Rossi & Figli"),  # ...but for its controls
    ("", "-"),
])
def test_names_are_written_in_the_latin_1_letters_the_schema_allows(
        typed: str, written: str) -> None:
    assert latin(typed, 80) == written
    assert latin("x" * 90, 80) == "x" * 80
