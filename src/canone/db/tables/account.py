"""Accounts, their people and what belongs to them alone (billing details, usage), and
who may act: staff, API keys, web sessions, idempotency records; the test clock."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
)

from canone.db.tables.base import CODE, ID, account_column, loose_account_column, metadata
from canone.db.types import UTCDateTime

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
    Column("card_kind", CODE),  # "card" or "sepa_debit"; NULL when there is no card
    Column("card_country", String(2)),  # of the issuing bank, when the gateway tells
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", ID, primary_key=True),
    account_column(),
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

# An account's billing details (SPEC §8), one row per account, with VIES's last answer for
# its VAT id; documents copy what they need when issued, so a change never rewrites one.
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

# The account's customer at the payment provider (Stripe: cus_…), made on first use.
payment_customers = Table(
    "payment_customers", metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("customer_id", String(255), nullable=False),
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

api_keys = Table(
    "api_keys", metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    loose_account_column(nullable=True),
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
