"""The `EInvoiceOutbox` of an SDI intermediary that works through a shared folder.

canone writes each FatturaPA file into the folder (atomically, never over an existing
name); the intermediary collects it, sends it to SDI and puts SDI's receipts back in the
same folder, named as SDI names them after the file: `<file>_RC_<n>.xml` (delivered),
`<file>_MC_<n>.xml` (not delivered: issued, in the customer's tax drawer), `<file>_NS_<n>.xml`
(rejected, with SDI's error codes).
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from lxml import etree

from canone.services.einvoicing import (
    DELIVERED,
    NOT_DELIVERED,
    REJECTED,
    UNREADABLE,
    EInvoiceFile,
    SdiError,
    SdiReceipt,
)

FILE_NAME = re.compile(r"[A-Z]{2}[A-Za-z0-9]{11,16}_[A-Za-z0-9]{1,5}\.xml")
RECEIPT_NAME = re.compile(r"(?P<file>[A-Z]{2}[A-Za-z0-9]{11,16}_[A-Za-z0-9]{1,5})"
                          r"_(?P<kind>RC|MC|NS)_(?P<n>[A-Za-z0-9]{1,3})\.xml")
OUTCOMES = {"RC": DELIVERED, "MC": NOT_DELIVERED, "NS": REJECTED}


class FileNameUsed(Exception):
    """A file of that name was already handed over: SDI refuses a name used twice."""


class FolderOutbox:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def hand_over(self, file: EInvoiceFile) -> None:
        if not FILE_NAME.fullmatch(file.file_name):
            raise ValueError(f"{file.file_name!r} is not an SDI file name")
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / file.file_name
        if final.is_file() and final.read_bytes() == file.content:
            return  # handed over before by a pass that could not record it: once is enough
        # Written under a name the intermediary ignores, then linked into place: it never
        # sees half a file, and link() refuses a name that exists (even one it took away
        # and left a receipt for, since the receipts keep the name).
        partial = self.folder / f".{file.file_name}.{os.getpid()}.partial"
        partial.write_bytes(file.content)
        try:
            if any(r.file_name == file.file_name for r in self.receipts()):
                raise FileNameUsed(file.file_name)
            os.link(partial, final)
        except FileExistsError:
            raise FileNameUsed(file.file_name) from None
        finally:
            partial.unlink()

    def receipts(self) -> list[SdiReceipt]:
        found = []
        for path in self.folder.glob("*.xml") if self.folder.is_dir() else ():
            match = RECEIPT_NAME.fullmatch(path.name)
            if match:
                found.append(read_receipt(path, match["file"] + ".xml",
                                          OUTCOMES[match["kind"]]))
        return sorted(found, key=lambda r: (r.received_at is None, r.received_at,
                                            r.receipt_file))


def read_receipt(path: Path, file_name: str, outcome: str) -> SdiReceipt:
    """One SDI message (RicevutaConsegna, NotificaMancataConsegna, NotificaScarto)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(path.read_bytes(), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        return SdiReceipt(file_name, UNREADABLE, path.name,
                          errors=(SdiError("", f"cannot read the receipt: {exc}"),))

    def text(name: str, within: etree._Element = root) -> str | None:
        # SDI's messages are namespaced, their children are not: match by local name.
        found = within.xpath(f".//*[local-name()='{name}']")
        return found[0].text.strip() if found and found[0].text else None

    received = text("DataOraRicezione")
    errors = tuple(SdiError(text("Codice", error) or "", text("Descrizione", error) or "")
                   for error in root.xpath(".//*[local-name()='Errore']"))
    return SdiReceipt(
        file_name=text("NomeFile") or file_name,
        outcome=outcome,
        receipt_file=path.name,
        sdi_id=text("IdentificativoSdI"),
        received_at=_instant(received),
        errors=errors,
    )


def _instant(text: str | None) -> datetime | None:
    """SDI's DataOraRicezione (e.g. 2026-03-16T10:15:00.000+01:00), always with its offset."""
    try:
        instant = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return instant if instant is None or instant.tzinfo else None
