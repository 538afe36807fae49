"""The repositories of the in-memory store (tests/memory_store.py), part three: credit notes,
their series and the FatturaPA files (SPEC §8), as canone.db.documents keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from canone.services.documents import HANDED_OVER, PENDING, CreditNote, EInvoice
from canone.services.errors import Conflict
from memory_edges import Table, insert, page, replace_row, taken


class MemoryDocuments(Table):
    def _bump(self, name: str, count: int = 1) -> int:
        last = self.t.document_counters.get(name, 0) + count
        self.t.document_counters[name] = last  # rolled back with the transaction: no gap
        return last

    def next_credit_note_number(self, year: int) -> str:
        return f"NC-{year}-{self._bump(f'credit_note:{year}'):06d}"

    def lock_credit_note_series(self, year: int) -> None:
        self._bump(f"credit_note:{year}", 0)  # one transaction at a time: nothing to wait for

    def next_sdi_progressive(self) -> int:
        return self._bump("sdi")

    def next_sdi_progressives(self, count: int) -> list[int]:
        last = self._bump("sdi", count)
        return list(range(last - count + 1, last + 1))

    def add_credit_note(self, note: CreditNote) -> None:
        if taken((n.number for n in self.t.credit_notes.values()), [note.number]):
            raise Conflict(f"credit note {note.number} already exists")
        insert(self.t.credit_notes, note.id, note, f"credit note {note.number}")

    def get_credit_note(self, credit_note_id: str) -> CreditNote | None:
        return self.t.credit_notes.get(credit_note_id)

    def credit_notes_of(self, account_id: str, limit: int, after: str | None
                        ) -> list[CreditNote]:
        mine = [n for n in self.t.credit_notes.values() if n.account_id == account_id]
        return page(mine, self.t.credit_notes, lambda n: n.issued_at, after, True)[:limit]

    def credit_notes_of_invoice(self, invoice_id: str) -> list[CreditNote]:
        return sorted((n for n in self.t.credit_notes.values() if n.invoice_id == invoice_id),
                      key=lambda n: (n.issued_at, n.number))

    def add_einvoice(self, file: EInvoice) -> None:
        files = self.t.einvoices.values()
        if taken((f.document_id for f in files), [file.document_id]) or taken(
                (f.file_name for f in files), [file.file_name]):
            raise Conflict(f"the e-invoice of {file.document_number} already exists")
        insert(self.t.einvoices, file.id, file, f"the e-invoice of {file.document_number}")

    def add_einvoices(self, files: Sequence[EInvoice]) -> None:
        for file in files:
            self.add_einvoice(file)

    def einvoice_of(self, document_id: str) -> EInvoice | None:
        return next((f for f in self.t.einvoices.values() if f.document_id == document_id),
                    None)

    def einvoices_of(self, document_ids: Sequence[str]) -> dict[str, EInvoice]:
        wanted = set(document_ids)
        return {f.document_id: f for f in self.t.einvoices.values() if f.document_id in wanted}

    def einvoices_since(self, since: datetime) -> list[EInvoice]:
        return sorted((f for f in self.t.einvoices.values() if f.created_at >= since),
                      key=lambda f: (f.created_at, f.file_name))

    def einvoices_to_hand_over(self, limit: int) -> list[EInvoice]:
        pending = [f for f in self.t.einvoices.values() if f.state == PENDING]
        return sorted(pending, key=lambda f: (f.created_at, f.file_name))[:limit]

    def einvoices_awaiting_sdi(self, file_names: Sequence[str]) -> dict[str, EInvoice]:
        wanted = set(file_names)
        return {f.file_name: f for f in self.t.einvoices.values()
                if f.file_name in wanted and f.state == HANDED_OVER}

    def save_einvoice_state(self, file: EInvoice) -> None:
        stored = self.t.einvoices.get(file.id)
        if stored is None:
            raise LookupError(f"e-invoice {file.id} does not exist")
        replace_row(self.t.einvoices, file.id, stored.but(state=file.state, sdi=file.sdi),
                    f"e-invoice {file.id}")
