"""FatturaPA files per document (SPEC §8), made when the seller files e-invoices: a TD01 for
every invoice and a TD04 for every credit note, for each customer kind of §8, in EUR and
USD, made in the transaction that issues the document, handed to the SDI intermediary's
folder afterwards, SDI's receipts read back. Every file made here validates against the
official schema and its totals add up from its own lines."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

import stored
from canone.billing.errors import InvalidField
from canone.billing.parties import Address, BillingDetails
from canone.integrations.einvoice.fatturapa import FatturaPaBuilder
from canone.integrations.einvoice.folder import FolderOutbox
from canone.integrations.einvoice.rates import FixedExchangeRates
from canone.integrations.vies import FakeVies
from canone.services import einvoice_files, quotes, renewal, requests, taxation
from canone.services.context import Services
from canone.services.credit_notes import credit_gross
from canone.services.documents import HANDED_OVER, PENDING, REFUND
from canone.services.einvoicing import DELIVERED, REJECTED, EInvoicing
from canone.services.errors import InvalidBillingDetails
from canone.services.sellers import seller_in_effect
from fatturapa_schema import checked

from .conftest import SUPPORT, admin_of, at, config, sign_up

ECB = FixedExchangeRates({"USD": {date(2026, 3, 31): Decimal("1.1580")}})

KINDS = {
    "IT business, SDI code": BillingDetails(
        "business", "Officina Verde S.r.l.",
        Address("Via Tortona 27", "20144", "Milano", "MI", "IT"),
        vat_id="IT05182730159", sdi_code="KRX5Q7A"),
    "IT business, PEC": BillingDetails(
        "business", "Alpina Consulenze S.r.l.",
        Address("Via Roma 1", "39100", "Bolzano", "BZ", "IT"),
        vat_id="IT00743110157", pec="fatture@pec.alpina.it"),
    "IT consumer": BillingDetails(
        "consumer", "Lucia Bellavista", Address("Via dei Neri 12", "50122", "Firenze", "FI",
                                                "IT"),
        tax_code="BLLLCU82C54D612L"),
    "DE business": BillingDetails(
        "business", "Lumen Analytics GmbH",
        Address("Torstraße 109", "10119", "Berlin", None, "DE"), vat_id="DE814937267"),
    "FR consumer": BillingDetails(
        "consumer", "Camille Laurent", Address("12 rue des Capucins", "69001", "Lyon", None,
                                               "FR")),
    "US business": BillingDetails(
        "business", "Northwind Outfitters Inc.",
        Address("350 Fifth Avenue", "10118", "New York", "NY", "US"), vat_id="94-3172856"),
    "US consumer": BillingDetails(
        "consumer", "John Appleseed", Address("1 Infinite Loop", "95014", "Cupertino", "CA",
                                              "US")),
}
# (TipoDocumento, CodiceDestinatario, AliquotaIVA, Natura) of each kind's documents.
EXPECTED = {
    "IT business, SDI code": ("KRX5Q7A", "22.00", None),
    "IT business, PEC": ("0000000", "22.00", None),
    "IT consumer": ("0000000", "22.00", None),
    "DE business": ("XXXXXXX", "0.00", "N2.1"),
    "FR consumer": ("XXXXXXX", "0.00", "N7"),
    "US business": ("XXXXXXX", "0.00", "N2.1"),
    "US consumer": ("XXXXXXX", "0.00", "N2.2"),
}

GENERAL = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/"
SUMMARY = "FatturaElettronicaBody/DatiBeniServizi/DatiRiepilogo/"


@pytest.fixture
def filing(svc: Services, tmp_path: Path) -> Services:
    """Services of a seller that files e-invoices (the demo seller), VIES answering from
    checksums, and an intermediary's folder."""
    seller = seller_in_effect(None)
    assert seller.einvoicing
    setup = EInvoicing(seller, FatturaPaBuilder(ECB), FolderOutbox(tmp_path / "sdi"), ECB)
    return dataclasses.replace(svc, seller=seller, vies=FakeVies(), einvoicing=setup)


def files(svc: Services) -> list:
    with svc.database.read() as store:
        return store.documents.einvoices_since(at(2000, 1, 1))


@pytest.mark.parametrize("currency", ["EUR", "USD"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_invoice_and_credit_note_becomes_a_valid_file(filing, clock, kind: str,
                                                            currency: str) -> None:
    svc = filing
    signed = sign_up(svc, config(currency=currency), details=KINDS[kind])
    clock.set(at(2026, 4, 10))
    note = give_back(svc, signed.invoice, 1000)

    invoice_file, note_file = files(svc)
    code, aliquota, natura = EXPECTED[kind]
    for file, number, tipo in ((invoice_file, signed.invoice.number, "TD01"),
                               (note_file, note.number, "TD04")):
        root = checked(file.content)
        assert (file.document_number, file.state) == (number, PENDING)
        assert root.findtext(GENERAL + "TipoDocumento") == tipo
        assert root.findtext(GENERAL + "Numero") == number
        assert root.findtext(GENERAL + "Divisa") == "EUR"
        assert root.findtext("FatturaElettronicaHeader/DatiTrasmissione/"
                             "CodiceDestinatario") == code
        assert (root.findtext(SUMMARY + "AliquotaIVA"), root.findtext(SUMMARY + "Natura")) \
            == (aliquota, natura)
    linked = etree.fromstring(note_file.content).find(
        "FatturaElettronicaBody/DatiGenerali/DatiFattureCollegate")
    assert (linked.findtext("IdDocumento"), linked.findtext("Data")) == (
        signed.invoice.number, "2026-04-01")
    assert [invoice_file.file_name, note_file.file_name] == [
        "IT12345670017_00001.xml", "IT12345670017_00002.xml"]


def give_back(svc: Services, invoice, amount: int):
    with svc.database.transaction() as store:
        return credit_gross(svc, store, invoice, amount, REFUND)


def upgraded(svc: Services, clock):
    """An Italian business signed up, then upgraded to enterprise: (the sign-up, the
    upgrade's invoice)."""
    signed = sign_up(svc, config(currency="EUR"), details=KINDS["IT business, SDI code"])
    ada = admin_of(svc, signed.account.id)
    clock.set(at(2026, 4, 16))
    quote = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise",
                                                               currency="EUR"))
    return signed, quotes.confirm(svc, ada, signed.account.id, quote.token).invoice


def test_an_italian_business_s_48_upgrade_files_58_56_paid_by_card(filing, clock) -> None:
    svc = filing
    upgrade = upgraded(svc, clock)[1]

    root = checked(files(svc)[-1].content)
    assert upgrade.total == 5856
    assert root.findtext(GENERAL + "ImportoTotaleDocumento") == "58.56"
    assert root.findtext(SUMMARY + "ImponibileImporto") == "48.00"
    assert root.findtext(SUMMARY + "Imposta") == "10.56"
    payment = "FatturaElettronicaBody/DatiPagamento/"
    assert root.findtext(payment + "CondizioniPagamento") == "TP02"
    assert root.findtext(payment + "DettaglioPagamento/ModalitaPagamento") == "MP08"
    assert root.findtext(payment + "DettaglioPagamento/ImportoPagamento") == "58.56"


def test_support_s_credit_for_unused_time_is_a_td04_against_the_period_s_invoice(
        filing, clock) -> None:
    svc = filing
    signed = sign_up(svc, config(tier="pro", currency="EUR"), details=KINDS["IT consumer"])
    ada = admin_of(svc, signed.account.id)
    request = requests.create(svc, ada, signed.account.id, config(currency="EUR"), "", "Less")
    clock.set(at(2026, 4, 16))
    requests.transition(svc, SUPPORT, request.id, "completed", "now")

    note_file = files(svc)[-1]
    root = checked(note_file.content)
    # 79 → 49 for 15 of 30 days: 15.00 net, 3.30 VAT.
    assert root.findtext(GENERAL + "TipoDocumento") == "TD04"
    assert root.findtext(GENERAL + "ImportoTotaleDocumento") == "18.30"
    assert root.findtext(SUMMARY + "Imposta") == "3.30"
    assert note_file.document_number == "NC-2026-000001"


def test_files_are_handed_over_once_and_sdi_s_receipts_are_read_back(filing, tmp_path,
                                                                     clock) -> None:
    svc = filing
    sign_up(svc, config(currency="EUR"), details=KINDS["IT business, SDI code"])
    sign_up(svc, config(currency="EUR"), details=KINDS["DE business"], email="b@example.com")

    assert einvoice_files.hand_over(svc) == 2
    assert einvoice_files.hand_over(svc) == 0
    folder = tmp_path / "sdi"
    first, second = files(svc)
    assert sorted(p.name for p in folder.iterdir()) == [first.file_name, second.file_name]
    assert (folder / first.file_name).read_bytes() == first.content
    assert (first.state, second.state) == (HANDED_OVER, HANDED_OVER)

    (folder / first.file_name).unlink()  # the intermediary took them and SDI answered
    (folder / second.file_name).unlink()
    (folder / "IT12345670017_00001_RC_001.xml").write_text(receipt(
        "RicevutaConsegna", "IT12345670017_00001.xml", "4711", ""))
    (folder / "IT12345670017_00002_NS_001.xml").write_text(receipt(
        "NotificaScarto", "IT12345670017_00002.xml", "4712",
        "<ListaErrori><Errore><Codice>00305</Codice><Descrizione>IdFiscaleIVA del "
        "cessionario non valido</Descrizione></Errore></ListaErrori>"))

    assert einvoice_files.read_receipts(svc) == 2
    assert einvoice_files.read_receipts(svc) == 0  # answered once
    first, second = files(svc)
    assert (first.state, first.sdi["sdi_id"]) == (DELIVERED, "4711")
    assert (second.state, second.sdi["errors"]) == (REJECTED, [
        {"code": "00305", "description": "IdFiscaleIVA del cessionario non valido"}])


def receipt(kind: str, file_name: str, sdi_id: str, more: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><ns3:{kind} xmlns:ns3="http://'
            'ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/messaggi/v1.0" versione="1.0">'
            f"<IdentificativoSdI>{sdi_id}</IdentificativoSdI><NomeFile>{file_name}</NomeFile>"
            "<DataOraRicezione>2026-04-01T11:15:00.000+02:00</DataOraRicezione>"
            f"{more}<MessageId>1</MessageId></ns3:{kind}>")


def test_an_invoice_s_file_takes_its_progressive_with_its_number_and_only_a_file_does(
        filing, clock) -> None:
    svc = filing
    signed, upgrade = upgraded(svc, clock)

    assert [(f.document_number, f.file_name) for f in files(svc)] == [
        ("2026-000001", "IT12345670017_00001.xml"), ("2026-000002", "IT12345670017_00002.xml")]
    assert upgrade.number == "2026-000002"
    with svc.database.transaction() as store:  # untaxed: no file, so no progressive
        assert einvoice_files.invoice_number(svc, store, signed.account.id, 2026, None, ()
                                             ) == ("2026-000003", None)
        assert store.documents.next_sdi_progressive() == 3


def test_sign_up_asks_for_billing_details_while_the_seller_files_e_invoices(filing) -> None:
    with pytest.raises(InvalidBillingDetails) as refused:
        sign_up(filing)
    assert refused.value.errors == {f"billing_details.{field}": (
        "required: the seller files every invoice as an e-invoice") for field in (
        "kind", "legal_name", "address.street", "address.postcode", "address.city",
        "address.country")}
    assert isinstance(refused.value, InvalidField)
    assert files(filing) == []


def test_no_file_when_the_seller_does_not_file_e_invoices(filing) -> None:
    seller = dataclasses.replace(filing.seller, einvoicing=False)
    svc = dataclasses.replace(filing, seller=seller, einvoicing=dataclasses.replace(
        filing.einvoicing, seller=seller))
    signed = sign_up(svc)  # no billing details needed either
    assert [i.number for i in stored.invoices(svc, signed.account.id)] == ["2026-000001"]
    assert files(svc) == []


def test_a_late_reduction_is_a_td04_without_vat_n2_2_with_the_stamp_duty(filing, clock) -> None:
    svc = filing
    signed = sign_up(svc, config(currency="EUR", interval="year", tier="pro"),
                     details=KINDS["IT business, SDI code"])
    clock.set(at(2027, 4, 2, 12))  # more than a year after the invoice of 1 April 2026

    note = give_back(svc, signed.invoice, 10000)

    root = checked(files(svc)[-1].content)
    assert (note.subtotal, note.total, note.stamp_duty) == (10000, 10000, 200)
    assert root.findtext(GENERAL + "TipoDocumento") == "TD04"
    assert root.findtext(GENERAL + "DatiBollo/ImportoBollo") == "2.00"
    assert (root.findtext(SUMMARY + "AliquotaIVA"), root.findtext(SUMMARY + "Natura"),
            root.findtext(SUMMARY + "Imposta")) == ("0.00", "N2.2", "0.00")
    assert "art. 26, c. 3, DPR 633/72" in root.findtext(SUMMARY + "RiferimentoNormativo")


def test_the_billing_run_files_each_renewal_invoice_in_its_batch(filing, clock) -> None:
    svc = filing
    signed = [sign_up(svc, config(currency=currency), details=KINDS[kind],
                      email=f"{n}@example.com")
              for n, (kind, currency) in enumerate([("IT consumer", "EUR"),
                                                    ("US business", "USD"),
                                                    ("FR consumer", "EUR")])]
    clock.set(at(2026, 5, 1, 9))

    assert renewal.run(svc).renewed == 3

    renewed = [stored.invoices(svc, s.account.id)[-1] for s in signed]
    made = {f.document_id: f for f in files(svc)}
    for invoice in renewed:
        root = checked(made[invoice.id].content)
        assert root.findtext(GENERAL + "Numero") == invoice.number
        assert root.findtext("FatturaElettronicaBody/DatiBeniServizi/DettaglioLinee/"
                             "DataInizioPeriodo") == "2026-05-01"
    assert sorted(f.file_name for f in made.values()) == [
        f"IT12345670017_0000{n}.xml" for n in range(1, 7)]


@pytest.fixture
def fallbacks(monkeypatch) -> list[str]:
    """Why each batch of the billing run fell back to one renewal at a time, if one did."""
    reasons: list[str] = []

    class Fallback(renewal._Fallback):
        def __init__(self, reason: str) -> None:
            reasons.append(reason)
            super().__init__(reason)

    monkeypatch.setattr(renewal, "_Fallback", Fallback)
    return reasons


def test_a_batch_takes_its_progressives_at_once_in_the_order_of_its_invoice_numbers(
        svc, filing, clock, fallbacks) -> None:
    kinds = ["IT business, SDI code", "IT consumer", None, "US business", "IT business, PEC"]
    signed = [sign_up(svc if kind is None else filing,  # no details: signed up before filing
                      config(currency="USD" if kind == "US business" else "EUR"),
                      details=None if kind is None else KINDS[kind], email=f"{n}@example.com")
              for n, kind in enumerate(kinds)]
    signed_up = {f.file_name for f in files(filing)}
    assert len(signed_up) == 4
    clock.set(at(2026, 5, 1, 9))

    assert renewal.run(filing).renewed == 5

    assert fallbacks == []  # renewed as one batch
    renewed = sorted((stored.invoices(filing, s.account.id)[-1] for s in signed),
                     key=lambda invoice: invoice.number)
    made = {f.document_id: f for f in files(filing) if f.file_name not in signed_up}
    bare = next(i for i in renewed if i.account_id == signed[2].account.id)
    assert [made[i.id].file_name for i in renewed if i is not bare] == [
        f"IT12345670017_0000{n}.xml" for n in range(5, 9)]
    assert bare.id not in made
    with filing.database.read() as store:
        skipped = store.audit.of_account(bare.account_id, 5, action="einvoice.skipped")
    assert [entry.after for entry in skipped] == [
        {"document": bare.number, "reason": "the account has no billing details"}]


def test_an_untaxed_renewal_takes_no_progressive_and_its_batch_does_not_fall_back(
        filing, clock, fallbacks) -> None:
    # Without a seller set up documents are untaxed: no VAT summary, so no file, though the
    # customer has billing details. The batch must count its progressives as the files ask.
    signed = sign_up(filing, config(currency="EUR"), details=KINDS["IT consumer"])
    assert [f.file_name for f in files(filing)] == ["IT12345670017_00001.xml"]
    untaxed = dataclasses.replace(filing, seller=None)
    clock.set(at(2026, 5, 1, 9))

    assert renewal.run(untaxed).renewed == 1

    assert fallbacks == []  # renewed in its batch
    invoice = stored.invoices(filing, signed.account.id)[-1]
    assert (invoice.number, invoice.tax_lines, invoice.customer) == (
        "2026-000002", (), KINDS["IT consumer"])
    assert [f.file_name for f in files(filing)] == ["IT12345670017_00001.xml"]
    with filing.database.transaction() as store:
        skipped = store.audit.of_account(signed.account.id, 5, action="einvoice.skipped")
        assert store.documents.next_sdi_progressive() == 2  # none taken in vain
    assert [entry.after for entry in skipped] == [
        {"document": "2026-000002", "reason": "the document has no tax lines"}]


def test_a_batch_works_out_each_account_s_terms_once(filing, clock, fallbacks,
                                                     monkeypatch) -> None:
    # Counting the batch's files and taxing each invoice use the same terms, worked out once.
    kinds = ["IT business, SDI code", "IT consumer", "US business"]
    signed = [sign_up(filing, config(currency="USD" if kind == "US business" else "EUR"),
                      details=KINDS[kind], email=f"{n}@example.com")
              for n, kind in enumerate(kinds)]
    asked: list[str] = []
    terms_of = taxation.terms_of
    monkeypatch.setattr(taxation, "terms_of", lambda seller, saved, now: (
        asked.append(saved.account_id), terms_of(seller, saved, now))[1])
    clock.set(at(2026, 5, 1, 9))

    assert renewal.run(filing).renewed == 3

    assert fallbacks == []
    assert sorted(asked) == sorted(s.account.id for s in signed)
    taxed = [stored.invoices(filing, s.account.id)[-1].tax_lines[0].rate for s in signed]
    assert taxed == [Decimal("22"), Decimal("22"), Decimal("0.00")]
