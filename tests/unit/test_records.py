"""`Record.but`: a changed copy, as `dataclasses.replace` makes it; a Record's row."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, date, datetime

import pytest

from canone.db import rows
from canone.services.records import (
    AuditEntry,
    Event,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Notification,
    Record,
)

ISSUED = datetime(2026, 5, 1, 9, tzinfo=UTC)
OPEN = Invoice("inv_1", "acc_1", "sub_1", "2026-000001", "renewal", "EUR", ISSUED, None, None,
               (InvoiceLine("plan", "Plus", 4900),), 4900, 0, 0, "open", attempts=1,
               next_attempt_at=ISSUED, subtotal=4900, tax_lines=(), issued_on=date(2026, 5, 1))


def test_but_is_replace() -> None:
    paid = OPEN.but(status="paid", amount_paid=4900, next_attempt_at=None)
    assert paid == replace(OPEN, status="paid", amount_paid=4900, next_attempt_at=None)
    assert hash(paid) == hash(replace(OPEN, status="paid", amount_paid=4900,
                                      next_attempt_at=None))
    assert (paid.amount_due, type(paid)) == (0, Invoice)
    assert (paid.attempts, OPEN.status, OPEN.amount_paid, OPEN.next_attempt_at) == (
        1, "open", 0, ISSUED)
    assert OPEN.but() == OPEN


def test_but_refuses_a_name_that_is_not_a_field_and_the_copy_stays_frozen() -> None:
    with pytest.raises(TypeError, match="Invoice has no field amount, stat"):
        OPEN.but(stat="paid", amount=1)
    with pytest.raises(FrozenInstanceError):
        OPEN.but(status="paid").status = "open"  # type: ignore[misc]


def test_a_records_row_is_its_fields_by_name() -> None:
    # `rows.values` copies a Record's __dict__: the records a renewal writes most are Records.
    entries = [AuditEntry("aud_1", "acc_1", "system", "invoice.issued", None, {"n": 1}, ISSUED),
               Event("evt_1", "invoice.issued", None, {"n": 1}, ISSUED),
               Notification("ntf_1", "acc_1", "a@example.com", "receipt", "it", {}, ISSUED),
               LedgerEntry("led_1", "acc_1", -100, "EUR", "Applied", "inv_1", ISSUED), OPEN]
    for record in entries:
        assert isinstance(record, Record)
        assert rows.values(record) == {f.name: getattr(record, f.name) for f in fields(record)}
