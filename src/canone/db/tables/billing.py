"""The money: subscriptions, invoices, payments, the ledger, credit notes and e-invoice
files (SPEC §4, §8)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from canone.db.tables.base import CODE, ID, MONEY, account_column, loose_account_column, metadata
from canone.db.types import SERIAL, JSONText, UTCDateTime

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", ID, primary_key=True),
    account_column(index=False),
    Column("config", JSONText, nullable=False),
    Column("anchor", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("renews_at", UTCDateTime, nullable=False, index=True),
    Column("status", CODE, nullable=False),
    Column("pending", JSONText),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("uq_subscriptions_account_id", subscriptions.c.account_id, unique=True)

invoices = Table(
    "invoices", metadata,
    Column("id", ID, primary_key=True),
    account_column(index=False),
    Column("subscription_id", ID, nullable=False),
    Column("number", String(16), nullable=False, unique=True),
    Column("kind", CODE, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("total", MONEY, nullable=False),
    Column("credit_applied", MONEY, nullable=False),
    Column("amount_paid", MONEY, nullable=False),
    Column("status", CODE, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    # SPEC §8: `total` above is gross; the net lines add up to `subtotal`, and the tax of
    # each rate is a tax line (integer minor units in the JSON). The date and the yearly
    # series follow the seller's calendar; the parties are kept as they were at issue.
    Column("subtotal", MONEY, nullable=False),
    Column("tax_lines", JSONText, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("customer", JSONText),
    Column("seller", JSONText),
)
Index("ix_invoices_account_issued", invoices.c.account_id, invoices.c.issued_at)
Index("ix_invoices_collect", invoices.c.status, invoices.c.next_attempt_at)
# Each (subscription, period) is billed at most once, whatever runs concurrently.
Index("uq_invoices_renewal_period", invoices.c.subscription_id, invoices.c.period_start,
      unique=True, sqlite_where=invoices.c.kind == "renewal",
      postgresql_where=invoices.c.kind == "renewal")

invoice_lines = Table(
    "invoice_lines", metadata,
    Column("invoice_id", ID, ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    loose_account_column(),
    Column("key", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
)

invoice_counters = Table(
    "invoice_counters", metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),
)

payments = Table(
    "payments", metadata,
    Column("id", ID, primary_key=True),
    account_column(),
    Column("invoice_id", ID, index=True),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", CODE, nullable=False),
    Column("charge_id", String(255)),
    Column("idempotency_key", String(255), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# On PostgreSQL its pages are half filled (fillfactor 50, migration 0009): each intent is
# updated twice after it is written, and the first update then stays on its page (HOT).
payment_intents = Table(
    "payment_intents", metadata,
    Column("key", String(255), primary_key=True),
    loose_account_column(nullable=True),
    Column("purpose", CODE, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("card_token", String(255), nullable=False),
    Column("payload", JSONText, nullable=False),
    Column("status", CODE, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("result", JSONText),
    Column("provider_id", String(255)),
    Column("password_hash", Text),  # a pending sign-up's primary admin; cleared once settled
)
Index("ix_payment_intents_pending", payment_intents.c.status, payment_intents.c.created_at)

ledger_entries = Table(
    "ledger_entries", metadata,
    Column("seq", SERIAL, Identity(), primary_key=True),
    Column("id", ID, nullable=False, unique=True),
    account_column(),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", Text, nullable=False),
    Column("invoice_id", ID),
    Column("created_at", UTCDateTime, nullable=False),
    Column("credit_note_id", ID),  # the credit note that granted this credit (SPEC §8)
)

# Gapless counters other than the invoices' (SPEC §8): "credit_note:2026" for the credit
# notes of a year, "sdi" for the progressive of FatturaPA file names (never reused).
document_counters = Table(
    "document_counters", metadata,
    Column("name", String(32), primary_key=True),
    Column("last", Integer, nullable=False),
)

credit_notes = Table(
    "credit_notes", metadata,
    Column("id", ID, primary_key=True),
    account_column(index=False),
    Column("invoice_id", ID, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("invoice_number", String(16), nullable=False),
    Column("invoice_date", Date, nullable=False),
    Column("number", String(20), nullable=False, unique=True),
    Column("reason", CODE, nullable=False),
    Column("settlement", CODE, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("subtotal", MONEY, nullable=False),
    Column("tax", JSONText, nullable=False),
    Column("total", MONEY, nullable=False),
    Column("stamp_duty", MONEY, nullable=False),
    Column("customer", JSONText),
    Column("source_id", ID, index=True),
)
Index("ix_credit_notes_account_issued", credit_notes.c.account_id, credit_notes.c.issued_at)

credit_note_lines = Table(
    "credit_note_lines", metadata,
    Column("credit_note_id", ID, ForeignKey("credit_notes.id", ondelete="CASCADE"),
           primary_key=True),
    Column("position", Integer, primary_key=True),
    loose_account_column(),
    Column("key", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
)

# The FatturaPA file of each invoice and credit note, made when the document is issued and
# handed to the SDI intermediary after the transaction commits.
einvoices = Table(
    "einvoices", metadata,
    Column("id", ID, primary_key=True),
    account_column(),
    Column("document_kind", CODE, nullable=False),
    Column("document_id", ID, nullable=False, unique=True),
    Column("document_number", String(20), nullable=False),
    Column("file_name", String(40), nullable=False, unique=True),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", CODE, nullable=False),
    Column("sdi", JSONText, nullable=False),
)
Index("ix_einvoices_state", einvoices.c.state, einvoices.c.created_at)
Index("ix_einvoices_created", einvoices.c.created_at)
