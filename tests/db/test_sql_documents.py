"""The documents repository (SPEC §8), the port's contract on SQLite, PostgreSQL and the
in-memory store: credit notes read back whole (lines, tax lines, the customer), their series
gapless per year and given back by a rollback, FatturaPA files and their SDI state."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from canone.db.database import Database
from canone.services.documents import HANDED_OVER, CreditNote, CreditNoteLine, EInvoice
from canone.services.errors import Conflict
from canone.services.records import InvoiceTaxLine

from .samples import BIG, CUSTOMER, T0, account, invoice, later, subscription


class Boom(Exception):
    pass


def note(n: int = 1, **changes: object) -> CreditNote:
    record = CreditNote(
        id=f"cn_{n}", account_id="acc_1", invoice_id="inv_1", invoice_number="2026-000001",
        invoice_date=date(2026, 3, 14), number=f"NC-2026-{n:06d}", reason="refund",
        settlement="card", currency="EUR", issued_at=later(n), issued_on=date(2026, 3, 14),
        lines=(CreditNoteLine("refund", "Refund", BIG), CreditNoteLine("x", "Più", 1)),
        subtotal=BIG + 1,
        tax_lines=(InvoiceTaxLine("late_reduction", Decimal("0"), "IT", "N2.2",
                                  "late_reduction_26", BIG + 1, 0),),
        total=BIG + 1, customer=CUSTOMER, stamp_duty=200, source_id="re_1")
    return record.but(**changes)


@pytest.fixture
def stored(database: Database) -> Database:
    with database.transaction() as store:
        store.accounts.add(account())
        store.subscriptions.add(subscription())
        store.invoices.add(invoice())
    return database


def test_a_credit_note_reads_back_whole_and_by_its_invoice(stored: Database) -> None:
    with stored.transaction() as store:
        store.documents.add_credit_note(note(1))
        store.documents.add_credit_note(note(2, customer=None, tax_lines=(), source_id=None))
    with stored.read() as store:
        assert store.documents.get_credit_note("cn_1") == note(1)
        assert store.documents.get_credit_note("cn_nope") is None
        assert [n.id for n in store.documents.credit_notes_of("acc_1", 10, None)] == [
            "cn_2", "cn_1"]  # newest first
        assert [n.id for n in store.documents.credit_notes_of("acc_1", 10, "cn_2")] == ["cn_1"]
        assert [n.id for n in store.documents.credit_notes_of_invoice("inv_1")] == [
            "cn_1", "cn_2"]  # oldest first
        assert store.documents.credit_notes_of_invoice("inv_2") == []


def test_a_taken_credit_note_number_is_a_conflict(stored: Database) -> None:
    with stored.transaction() as store:
        store.documents.add_credit_note(note(1))
    with pytest.raises(Conflict), stored.transaction() as store:
        store.documents.add_credit_note(note(2, number="NC-2026-000001"))


def test_the_series_is_gapless_per_year_and_a_rollback_gives_a_number_back(
        database: Database) -> None:
    with database.transaction() as store:
        assert [store.documents.next_credit_note_number(2026) for _ in range(2)] == [
            "NC-2026-000001", "NC-2026-000002"]
        assert store.documents.next_credit_note_number(2027) == "NC-2027-000001"
        assert store.documents.next_sdi_progressive() == 1
    with pytest.raises(Boom), database.transaction() as store:
        assert store.documents.next_credit_note_number(2026) == "NC-2026-000003"
        assert store.documents.next_sdi_progressive() == 2
        raise Boom
    with database.transaction() as store:
        assert store.documents.next_credit_note_number(2026) == "NC-2026-000003"
        assert store.documents.next_sdi_progressive() == 2
        assert store.invoices.next_number(2026) == "2026-000001"  # a series of its own


def test_progressives_taken_in_a_block_follow_on_without_a_gap(database: Database) -> None:
    with database.transaction() as store:
        assert store.documents.next_sdi_progressive() == 1
        assert store.documents.next_sdi_progressives(3) == [2, 3, 4]
    with pytest.raises(Boom), database.transaction() as store:
        assert store.documents.next_sdi_progressives(500) == list(range(5, 505))
        raise Boom
    with database.transaction() as store:
        assert store.documents.next_sdi_progressives(2) == [5, 6]
        assert store.documents.next_sdi_progressive() == 7


def test_an_invoice_number_with_its_files_progressive_shares_both_series(
        database: Database) -> None:
    """Taken together (one round trip on PostgreSQL), before and after a number alone and
    with writes held since one: each from its own series, both given back by a rollback."""
    with database.transaction() as store:
        store.accounts.add(account())
        store.subscriptions.add(subscription())
        assert store.invoices.next_number_with_progressive(2026) == ("2026-000001", 1)
        store.invoices.add(invoice(1, kind="upgrade", number="2026-000001"))
        assert store.documents.next_sdi_progressive() == 2
        assert store.invoices.next_number_with_progressive(2026) == ("2026-000002", 3)
    with pytest.raises(Boom), database.transaction() as store:
        assert store.invoices.next_number(2026) == "2026-000003"
        assert store.invoices.next_number_with_progressive(2027) == ("2027-000001", 4)
        raise Boom
    with database.transaction() as store:
        assert store.invoices.next_number_with_progressive(2027) == ("2027-000001", 4)
        assert store.invoices.next_number(2026) == "2026-000003"
    with database.read() as store:
        assert store.invoices.get("inv_1") == invoice(1, kind="upgrade", number="2026-000001")


def file(n: int, document_id: str, **changes: object) -> EInvoice:
    record = EInvoice(f"einv_{n}", "acc_1", "invoice", document_id, f"2026-{n:06d}",
                      f"IT12345670017_{n:05d}.xml", b"<?xml version='1.0'?>\x00\xff",
                      later(n))
    return record.but(**changes)


def test_files_are_kept_once_handed_over_and_answered(stored: Database) -> None:
    with stored.transaction() as store:
        store.documents.add_einvoice(file(1, "inv_1"))
        store.documents.add_einvoice(file(2, "cn_1", document_kind="credit_note"))
    with pytest.raises(Conflict), stored.transaction() as store:
        store.documents.add_einvoice(file(3, "inv_1"))  # one file per document
    with stored.transaction() as store:
        assert store.documents.einvoice_of("inv_1") == file(1, "inv_1")
        assert sorted(store.documents.einvoices_of(["inv_1", "cn_1", "x"])) == ["cn_1", "inv_1"]
        assert [f.id for f in store.documents.einvoices_since(later(2))] == ["einv_2"]
        pending = store.documents.einvoices_to_hand_over(10)
        assert [f.id for f in pending] == ["einv_1", "einv_2"]
        store.documents.save_einvoice_state(pending[0].but(state=HANDED_OVER))
    with stored.transaction() as store:
        assert [f.id for f in store.documents.einvoices_to_hand_over(10)] == ["einv_2"]
        waiting = store.documents.einvoices_awaiting_sdi(["IT12345670017_00001.xml",
                                                          "IT12345670017_00002.xml"])
        assert list(waiting) == ["IT12345670017_00001.xml"]
        answer = {"sdi_id": "4711", "received_at": T0.isoformat(), "errors": []}
        store.documents.save_einvoice_state(waiting["IT12345670017_00001.xml"].but(
            state="delivered", sdi=answer))
    with stored.transaction() as store:  # awaiting_sdi locks what it finds: not in read()
        found = store.documents.einvoice_of("inv_1")
        assert found is not None and (found.state, found.sdi) == ("delivered", answer)
        assert found.content == b"<?xml version='1.0'?>\x00\xff"
        assert store.documents.einvoices_awaiting_sdi(["IT12345670017_00001.xml"]) == {}


def test_files_added_together_read_back_and_a_taken_name_adds_none(stored: Database) -> None:
    # COPY on PostgreSQL (binary): every byte value, in files of different lengths.
    many = [file(n, f"inv_{n}", content=bytes(range(256)) * n + b"\\N\t\n")
            for n in range(1, 21)]
    with stored.transaction() as store:
        store.documents.add_einvoices(many)
    with stored.read() as store:
        assert store.documents.einvoices_of([f.document_id for f in many]) == {
            f.document_id: f for f in many}
    with pytest.raises(Conflict), stored.transaction() as store:
        store.documents.add_einvoices([file(21, "inv_21"),
                                       file(22, "inv_22", file_name=many[0].file_name)])
    with stored.read() as store:
        assert store.documents.einvoices_of(["inv_21", "inv_22"]) == {}
        assert len(store.documents.einvoices_since(T0)) == 20
