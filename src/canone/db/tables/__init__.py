"""The schema, as SQLAlchemy Core tables. Conversion to and from the records is explicit,
in `canone.db.rows`; nothing is mapped onto the record classes.

Money is BIGINT minor units; instants are `UTCDateTime`; JSON is text (`JSONText`). Every
table owned by an account carries `account_id`, indexed or leading a key, so the schema can
be sharded by account later. Foreign keys point only at `accounts` and from child rows to
their parent, so a unit of work may write its other rows in any order.

The tables are defined by aggregate in the modules of this package, all on the one
`metadata` of `base`; importing this package defines every one of them (Alembic's env and
the migration tests read `metadata` from here).
"""

from __future__ import annotations

from canone.db.tables.account import (
    accounts,
    api_keys,
    billing_details,
    clock_override,
    idempotency_records,
    payment_customers,
    staff,
    usage,
    usage_thresholds,
    users,
    web_sessions,
)
from canone.db.tables.activity import (
    audit_entries,
    change_request_events,
    change_requests,
    events,
    outbox,
    webhook_deliveries,
    webhook_endpoints,
)
from canone.db.tables.base import metadata
from canone.db.tables.billing import (
    credit_note_lines,
    credit_notes,
    document_counters,
    einvoices,
    invoice_counters,
    invoice_lines,
    invoices,
    ledger_entries,
    payment_intents,
    payments,
    subscriptions,
)

__all__ = [
    "ALL_TABLES", "accounts", "api_keys", "audit_entries", "billing_details",
    "change_request_events", "change_requests", "clock_override", "credit_note_lines",
    "credit_notes", "document_counters", "einvoices", "events", "idempotency_records",
    "invoice_counters", "invoice_lines", "invoices", "ledger_entries", "metadata", "outbox",
    "payment_customers", "payment_intents", "payments", "staff", "subscriptions", "usage",
    "usage_thresholds", "users", "web_sessions", "webhook_deliveries", "webhook_endpoints",
]

# TRUNCATE / DELETE order (children first).
ALL_TABLES = tuple(reversed(metadata.sorted_tables))
