"""What happens to an account and who is told: change requests, the audit log, events, the
email outbox and webhook deliveries."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Identity, Index, Integer, String, Table, Text

from canone.db.tables.base import CODE, ID, account_column, loose_account_column, metadata
from canone.db.types import SERIAL, JSONText, UTCDateTime

change_requests = Table(
    "change_requests", metadata,
    Column("id", ID, primary_key=True),
    account_column(),
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
    loose_account_column(),
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
    loose_account_column(),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("before", JSONText),
    Column("after", JSONText),
    Column("at", UTCDateTime, nullable=False),
)

events = Table(
    "events", metadata,
    Column("seq", SERIAL, Identity(), primary_key=True),
    Column("id", ID, nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    loose_account_column(nullable=True),
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
    loose_account_column(nullable=True),
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
    loose_account_column(nullable=True),
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
    loose_account_column(nullable=True),
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
