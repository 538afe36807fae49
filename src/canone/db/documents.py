"""`SqlDocuments`: credit notes, their gapless series, and the FatturaPA file of every
document with SDI's answer (SPEC §8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from canone.billing.parties import details_from_json, details_to_json
from canone.db.queries import Queries, page
from canone.db.rows import tax_line_json, tax_line_of, values
from canone.db.tables import credit_note_lines, credit_notes, document_counters, einvoices
from canone.services.documents import HANDED_OVER, PENDING, CreditNote, CreditNoteLine, EInvoice

# The counter of FatturaPA file names' progressive (SPEC §8), never reused.
SDI_COUNTER = (document_counters, "sdi", 1)


def _note_values(note: CreditNote) -> dict[str, Any]:
    row = values(note)
    del row["lines"], row["tax_lines"]
    row["tax"] = [tax_line_json(line) for line in note.tax_lines]
    row["customer"] = None if note.customer is None else details_to_json(note.customer)
    return row


_NOTE_COLUMNS = [n for n in CreditNote.__dataclass_fields__
                 if n not in ("lines", "tax_lines", "customer")]


def _note_of(r: Row[Any], lines: Sequence[Row[Any]]) -> CreditNote:
    m = r._mapping
    return CreditNote(
        **{name: m[name] for name in _NOTE_COLUMNS},
        lines=tuple(CreditNoteLine(line.key, line.description, line.amount) for line in lines),
        tax_lines=tuple(tax_line_of(raw) for raw in m["tax"]),
        customer=None if m["customer"] is None else details_from_json(m["customer"]))


def _einvoice_of(r: Row[Any]) -> EInvoice:
    fields = {name: r._mapping[name] for name in EInvoice.__dataclass_fields__}
    return EInvoice(**{**fields, "content": bytes(fields["content"])})


class SqlDocuments(Queries):
    # -- counters ---------------------------------------------------------------------

    def next_credit_note_number(self, year: int) -> str:
        number = f"NC-{year}-{self.bump((document_counters, f'credit_note:{year}', 1))[0]:06d}"
        self.hold()  # (as an invoice number: `SqlInvoices.next_number`)
        return number

    def lock_credit_note_series(self, year: int) -> None:
        self.bump((document_counters, f"credit_note:{year}", 0))

    def next_sdi_progressive(self) -> int:
        return self.bump(SDI_COUNTER)[0]

    def next_sdi_progressives(self, count: int) -> list[int]:
        table, key, _ = SDI_COUNTER
        last = self.bump((table, key, count))[0]
        return list(range(last - count + 1, last + 1))

    # -- credit notes -----------------------------------------------------------------

    def add_credit_note(self, note: CreditNote) -> None:
        self.insert_new(credit_notes, _note_values(note), f"credit note {note.number}")
        self.insert_all(credit_note_lines, [
            {"credit_note_id": note.id, "position": n, "account_id": note.account_id,
             "key": line.key, "description": line.description, "amount": line.amount}
            for n, line in enumerate(note.lines)])

    def get_credit_note(self, credit_note_id: str) -> CreditNote | None:
        found = self._notes_with_lines(self.all(
            select(credit_notes).where(credit_notes.c.id == credit_note_id)))
        return found[0] if found else None

    def credit_notes_of(self, account_id: str, limit: int, after: str | None
                        ) -> list[CreditNote]:
        """Newest first."""
        past, by = page(credit_notes, credit_notes.c.issued_at, after, newest_first=True)
        query = (select(credit_notes).where(credit_notes.c.account_id == account_id, past)
                 .order_by(*by).limit(limit))
        return self._notes_with_lines(self.all(query))

    def credit_notes_of_invoice(self, invoice_id: str) -> list[CreditNote]:
        """Oldest first."""
        c = credit_notes.c
        query = (select(credit_notes).where(c.invoice_id == invoice_id)
                 .order_by(c.issued_at, c.number))
        return self._notes_with_lines(self.all(query))

    def _notes_with_lines(self, found: Sequence[Row[Any]]) -> list[CreditNote]:
        if not found:
            return []
        c = credit_note_lines.c
        lines: dict[str, list[Row[Any]]] = defaultdict(list)
        query = (select(credit_note_lines)
                 .where(self.among(c.credit_note_id, [r.id for r in found]))
                 .order_by(c.credit_note_id, c.position))
        for line in self.all(query):
            lines[line.credit_note_id].append(line)
        return [_note_of(r, lines[r.id]) for r in found]

    # -- FatturaPA files --------------------------------------------------------------

    def add_einvoice(self, file: EInvoice) -> None:
        self.insert_new(einvoices, values(file), f"the e-invoice of {file.document_number}")

    def add_einvoices(self, files: Sequence[EInvoice]) -> None:
        """`add_einvoice` for several in one statement; a taken document or file name
        raises `Conflict`, here (what is held is sent), and leaves the transaction to be
        rolled back."""
        self.insert_all(einvoices, [values(file) for file in files],
                        taken=f"one of {len(files)} e-invoices")
        self.send_held()

    def einvoice_of(self, document_id: str) -> EInvoice | None:
        row = self.first(select(einvoices).where(einvoices.c.document_id == document_id))
        return None if row is None else _einvoice_of(row)

    def einvoices_of(self, document_ids: Sequence[str]) -> dict[str, EInvoice]:
        if not document_ids:
            return {}
        query = select(einvoices).where(self.among(einvoices.c.document_id, document_ids))
        return {r.document_id: _einvoice_of(r) for r in self.all(query)}

    def einvoices_since(self, since: datetime) -> list[EInvoice]:
        """Every file made at or after `since`, oldest first."""
        c = einvoices.c
        query = (select(einvoices).where(c.created_at >= since)
                 .order_by(c.created_at, c.file_name))
        return [_einvoice_of(r) for r in self.all(query)]

    def einvoices_to_hand_over(self, limit: int) -> list[EInvoice]:
        """Files not yet handed to the intermediary, oldest first, locked (SKIP LOCKED)."""
        c = einvoices.c
        query = (select(einvoices).where(c.state == PENDING)
                 .order_by(c.created_at, c.file_name).limit(limit))
        return [_einvoice_of(r) for r in self.all(self.claimed(query))]

    def einvoices_awaiting_sdi(self, file_names: Sequence[str]) -> dict[str, EInvoice]:
        """The files among `file_names` that SDI has not answered about yet, locked."""
        if not file_names:
            return {}
        c = einvoices.c
        query = select(einvoices).where(self.among(c.file_name, file_names),
                                        c.state == HANDED_OVER)
        return {r.file_name: _einvoice_of(r) for r in self.all(self.locked(query, True))}

    def save_einvoice_state(self, file: EInvoice) -> None:
        self.update(einvoices, einvoices.c.id == file.id, {"state": file.state, "sdi": file.sdi},
                    f"e-invoice {file.id}")
