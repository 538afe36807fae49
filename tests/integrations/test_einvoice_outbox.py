"""The folder outbox of an SDI intermediary: files handed over once, receipts read back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from canone.integrations.einvoice.folder import FileNameUsed, FolderOutbox
from canone.integrations.einvoice.rates import FixedExchangeRates, UnknownRate
from canone.services import einvoicing

NAME = "IT12345670017_00001.xml"
MESSAGES = 'xmlns:ns3="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/messaggi/v1.0"'

DELIVERY = f"""<?xml version="1.0" encoding="UTF-8"?>
<ns3:RicevutaConsegna {MESSAGES} versione="1.0">
  <IdentificativoSdI>4711</IdentificativoSdI>
  <NomeFile>{NAME}</NomeFile>
  <Hash>2f2b7c8e</Hash>
  <DataOraRicezione>2026-03-16T10:15:00.000+01:00</DataOraRicezione>
  <DataOraConsegna>2026-03-16T10:20:00.000+01:00</DataOraConsegna>
  <Destinatario><Codice>M5UXCR1</Codice><Descrizione>Bottega Digitale</Descrizione></Destinatario>
  <MessageId>90001</MessageId>
</ns3:RicevutaConsegna>
"""

REJECTION = f"""<?xml version="1.0" encoding="UTF-8"?>
<ns3:NotificaScarto {MESSAGES} versione="1.0">
  <IdentificativoSdI>4712</IdentificativoSdI>
  <NomeFile>IT12345670017_00002.xml</NomeFile>
  <DataOraRicezione>2026-03-16T11:00:00.000+01:00</DataOraRicezione>
  <ListaErrori>
    <Errore>
      <Codice>00305</Codice><Descrizione>IdFiscaleIVA del cessionario non valido</Descrizione>
    </Errore>
    <Errore><Codice>00404</Codice><Descrizione>Fattura duplicata</Descrizione></Errore>
  </ListaErrori>
  <MessageId>90002</MessageId>
</ns3:NotificaScarto>
"""

NO_DELIVERY = f"""<?xml version="1.0" encoding="UTF-8"?>
<ns3:NotificaMancataConsegna {MESSAGES} versione="1.0">
  <IdentificativoSdI>4713</IdentificativoSdI>
  <NomeFile>IT12345670017_00003.xml</NomeFile>
  <DataOraRicezione>2026-03-16T12:00:00.000+01:00</DataOraRicezione>
  <Descrizione>Casella PEC piena</Descrizione>
  <MessageId>90003</MessageId>
</ns3:NotificaMancataConsegna>
"""


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 16, hour - 1, minute, tzinfo=UTC)


def test_a_file_is_written_whole_into_the_folder_under_its_sdi_name(tmp_path: Path) -> None:
    outbox = FolderOutbox(tmp_path / "sdi")
    outbox.hand_over(einvoicing.EInvoiceFile(NAME, b"<xml/>"))
    assert sorted(p.name for p in (tmp_path / "sdi").iterdir()) == [NAME]
    assert (tmp_path / "sdi" / NAME).read_bytes() == b"<xml/>"


def test_a_file_name_is_never_used_twice_even_after_the_intermediary_took_the_file(
        tmp_path: Path) -> None:
    outbox = FolderOutbox(tmp_path)
    outbox.hand_over(einvoicing.EInvoiceFile(NAME, b"<first/>"))
    with pytest.raises(FileNameUsed):
        outbox.hand_over(einvoicing.EInvoiceFile(NAME, b"<second/>"))
    assert (tmp_path / NAME).read_bytes() == b"<first/>"
    (tmp_path / NAME).unlink()  # collected; SDI's receipt comes back under the same name
    (tmp_path / "IT12345670017_00001_RC_001.xml").write_text(DELIVERY)
    with pytest.raises(FileNameUsed):
        outbox.hand_over(einvoicing.EInvoiceFile(NAME, b"<third/>"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IT12345670017_00001_RC_001.xml"]


def test_a_name_that_is_not_an_sdi_file_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not an SDI file name"):
        FolderOutbox(tmp_path).hand_over(einvoicing.EInvoiceFile("../invoice.xml", b"<xml/>"))


def test_receipts_are_read_back_delivered_not_delivered_and_rejected_with_codes(
        tmp_path: Path) -> None:
    (tmp_path / "IT12345670017_00001_RC_001.xml").write_text(DELIVERY)
    (tmp_path / "IT12345670017_00002_NS_001.xml").write_text(REJECTION)
    (tmp_path / "IT12345670017_00003_MC_001.xml").write_text(NO_DELIVERY)
    (tmp_path / NAME).write_text("<p:FatturaElettronica/>")  # a file, not a receipt
    rejected_for = (einvoicing.SdiError("00305", "IdFiscaleIVA del cessionario non valido"),
                    einvoicing.SdiError("00404", "Fattura duplicata"))
    assert FolderOutbox(tmp_path).receipts() == [
        einvoicing.SdiReceipt(NAME, einvoicing.DELIVERED, "IT12345670017_00001_RC_001.xml",
                              "4711", at(10, 15)),
        einvoicing.SdiReceipt("IT12345670017_00002.xml", einvoicing.REJECTED,
                              "IT12345670017_00002_NS_001.xml", "4712", at(11, 0), rejected_for),
        einvoicing.SdiReceipt("IT12345670017_00003.xml", einvoicing.NOT_DELIVERED,
                              "IT12345670017_00003_MC_001.xml", "4713", at(12, 0)),
    ]


def test_a_receipt_that_cannot_be_read_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "IT12345670017_00004_NS_001.xml").write_text("<ns3:NotificaScarto")
    [receipt] = FolderOutbox(tmp_path).receipts()
    assert receipt.file_name == "IT12345670017_00004.xml"
    assert receipt.outcome == einvoicing.UNREADABLE
    assert receipt.errors[0].description.startswith("cannot read the receipt: ")


def test_a_missing_folder_has_no_receipts(tmp_path: Path) -> None:
    assert FolderOutbox(tmp_path / "not-yet").receipts() == []


def test_a_day_without_an_ecb_rate_takes_the_last_one_published() -> None:
    rates = FixedExchangeRates({"USD": {date(2026, 3, 13): Decimal("1.0812"),
                                        date(2026, 3, 12): Decimal("1.0790")}})
    assert rates.eur_rate("USD", date(2026, 3, 15)) == Decimal("1.0812")  # a Sunday
    assert rates.eur_rate("USD", date(2026, 3, 12)) == Decimal("1.0790")
    assert rates.eur_rate("EUR", date(2026, 3, 15)) == Decimal(1)
    with pytest.raises(UnknownRate):
        rates.eur_rate("USD", date(2026, 3, 11))
