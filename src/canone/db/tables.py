"""The schema, as SQLAlchemy Core tables. Conversion to and from the records is explicit,
in `canone.db.rows`; nothing is mapped onto the record classes.

Money is BIGINT minor units; instants are `UTCDateTime`; JSON is text (`JSONText`). Every
table owned by an account carries `account_id`, indexed or leading a key, so the schema can
be sharded by account later. Foreign keys point only at `accounts` and from child rows to
their parent, so a unit of work may write its other rows in any order.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
)

from canone.db.types import SERIAL, JSONText, UTCDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

ID = String(64)
CODE = String(32)
MONEY = BigInteger


def _account(nullable: bool = False, index: bool = True) -> Column[str]:
    return Column("account_id", ID, ForeignKey("accounts.id"), nullable=nullable, index=index)


def _loose_account(nullable: bool = False) -> Column[str]:
    """An account id without a foreign key: logs and outboxes may be written first."""
    return Column("account_id", ID, nullable=nullable, index=True)


accounts = Table(
    "accounts", metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", CODE, nullable=False),
    Column("auto_upgrade", Boolean, nullable=False),
    Column("card_token", String(255)),
    Column("card_brand", CODE),
    Column("card_last4", String(4)),
    Column("card_exp_month", Integer),
    Column("card_exp_year", Integer),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", ID, primary_key=True),
    _account(),
    Column("email", String(320), nullable=False),
    Column("name", Text, nullable=False),
    Column("role", CODE, nullable=False),
    Column("billing", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("password_hash", Text, nullable=False),
)
Index("uq_users_email", func.lower(users.c.email), unique=True)

staff = Table(
    "staff", metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
)
Index("uq_staff_email", func.lower(staff.c.email), unique=True)

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", ID, primary_key=True),
    _account(index=False),
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
    _account(index=False),
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
    _loose_account(),
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
    _account(),
    Column("invoice_id", ID, index=True),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", CODE, nullable=False),
    Column("charge_id", String(255)),
    Column("idempotency_key", String(255), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

payment_intents = Table(
    "payment_intents", metadata,
    Column("key", String(255), primary_key=True),
    _loose_account(nullable=True),
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
    _account(),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", Text, nullable=False),
    Column("invoice_id", ID),
    Column("created_at", UTCDateTime, nullable=False),
    Column("credit_note_id", ID),  # the credit note that granted this credit (SPEC §8)
)

change_requests = Table(
    "change_requests", metadata,
    Column("id", ID, primary_key=True),
    _account(),
    Column("requester_email", String(320), nullable=False),
    Column("desired", JSONText),
    Column("reason", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("status", CODE, nullable=False),
    Column("source", CODE, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("effective", CODE),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_change_requests_queue", change_requests.c.status, change_requests.c.created_at)

change_request_events = Table(
    "change_request_events", metadata,
    Column("request_id", ID, ForeignKey("change_requests.id", ondelete="CASCADE"),
           primary_key=True),
    Column("position", Integer, primary_key=True),
    _loose_account(),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("from_status", CODE),
    Column("to_status", CODE, nullable=False),
    Column("message", Text, nullable=False),
)

audit_entries = Table(
    "audit_entries", metadata,
    Column("seq", SERIAL, Identity(), primary_key=True),
    Column("id", ID, nullable=False, unique=True),
    _loose_account(),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("before", JSONText),
    Column("after", JSONText),
    Column("at", UTCDateTime, nullable=False),
)

# An account's billing details (SPEC §8), one row per account, with VIES's last answer for
# its VAT id; documents copy what they need when issued, so a change never rewrites one.
# The account's customer at the payment provider (Stripe: cus_…), made on first use.
payment_customers = Table(
    "payment_customers", metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("customer_id", String(255), nullable=False),
)

billing_details = Table(
    "billing_details", metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("kind", CODE, nullable=False),
    Column("legal_name", Text, nullable=False),
    Column("street", Text, nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("city", Text, nullable=False),
    Column("province", String(2)),
    Column("country", String(2), nullable=False),
    Column("vat_id", String(32)),
    Column("tax_code", String(16)),
    Column("sdi_code", String(7)),
    Column("pec", String(320)),
    Column("card_country", String(2)),
    Column("vies_valid", Boolean),
    Column("vies_checked_at", UTCDateTime),
    Column("vies_name", Text),
    Column("vies_address", Text),
    Column("vies_consultation_id", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

usage = Table(
    "usage", metadata,
    Column("account_id", ID, primary_key=True),
    Column("contacts", Integer, nullable=False),
    Column("active_users", Integer, nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
)

usage_thresholds = Table(
    "usage_thresholds", metadata,
    Column("account_id", ID, primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("threshold", Integer, primary_key=True, autoincrement=False),
)

events = Table(
    "events", metadata,
    Column("seq", SERIAL, Identity(), primary_key=True),
    Column("id", ID, nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    _loose_account(nullable=True),
    Column("data", JSONText, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The email outbox: one row per notification (channel "email"). `seq` keeps the order in
# which the notifications were written, which random ids and a shared instant cannot.
outbox = Table(
    "outbox", metadata,
    Column("seq", SERIAL, Identity(), primary_key=True),
    Column("id", ID, nullable=False, unique=True),
    Column("channel", CODE, nullable=False),
    _loose_account(nullable=True),
    Column("payload", JSONText, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("status", CODE, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at, outbox.c.seq)

webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", ID, primary_key=True),
    _loose_account(nullable=True),
    Column("url", Text, nullable=False),
    Column("events", JSONText, nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", ID, primary_key=True),
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id"), nullable=False, index=True),
    Column("event_id", ID, ForeignKey("events.id"), nullable=False, index=True),
    _loose_account(nullable=True),
    Column("event_type", String(64), nullable=False),
    Column("payload", JSONText, nullable=False),
    Column("status", CODE, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_webhook_deliveries_due", webhook_deliveries.c.status,
      webhook_deliveries.c.next_attempt_at)

api_keys = Table(
    "api_keys", metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    _loose_account(nullable=True),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked", Boolean, nullable=False),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("principal", String(128), nullable=False),
    Column("csrf", String(128), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

idempotency_records = Table(
    "idempotency_records", metadata,
    Column("scope", ID, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(255), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

# The test clock: at most one row (id = 1).
clock_override = Table(
    "clock_override", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("now", UTCDateTime, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
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
    _account(index=False),
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
    _loose_account(),
    Column("key", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
)

# The FatturaPA file of each invoice and credit note, made when the document is issued and
# handed to the SDI intermediary after the transaction commits.
einvoices = Table(
    "einvoices", metadata,
    Column("id", ID, primary_key=True),
    _account(),
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

# TRUNCATE / DELETE order (children first).
ALL_TABLES = tuple(reversed(metadata.sorted_tables))
