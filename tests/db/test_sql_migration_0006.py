"""Migration 0006 (SPEC §8) on a database with invoices: each keeps its total as its
subtotal, has no tax lines, and is dated in Rome's calendar, on each backend."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from canone.db.database import Database


def test_invoices_issued_before_taxes_keep_their_amounts(empty_database: Database) -> None:
    empty_database.migrate("0005")
    with empty_database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO accounts (id, name, timezone, locale, currency, status, auto_upgrade,"
            " created_at) VALUES ('acc_1', 'Acme', 'Asia/Tokyo', 'en', 'EUR', 'active',"
            " false, :at)"), {"at": datetime(2026, 1, 1, tzinfo=UTC)})
        # 31 December 2026, 23:30 UTC: already 1 January 2027 in Rome.
        connection.execute(text(
            "INSERT INTO invoices (id, account_id, subscription_id, number, kind, currency,"
            " issued_at, total, credit_applied, amount_paid, status, attempts) VALUES"
            " ('inv_1', 'acc_1', 'sub_1', '2026-000001', 'renewal', 'EUR', :at, 4900, 0,"
            " 4900, 'paid', 0)"), {"at": datetime(2026, 12, 31, 23, 30, tzinfo=UTC)})

    empty_database.migrate()

    with empty_database.read() as store:
        invoice = store.invoices.get("inv_1")
    assert invoice is not None
    assert (invoice.subtotal, invoice.tax_lines, invoice.total) == (4900, (), 4900)
    assert invoice.issued_on == date(2027, 1, 1)
    assert (invoice.customer, invoice.seller) == (None, None)
