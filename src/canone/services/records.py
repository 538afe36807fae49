"""The records the services keep: plain dataclasses, persisted by a `Store` adapter.

Money is integer minor units here, as in the database; the billing core's Decimals are
converted at the edges of each use case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self

from canone.billing.configuration import Configuration
from canone.billing.frozen import quick_init
from canone.billing.invoicing import InvoiceAmounts
from canone.billing.invoicing import InvoiceLine as InvoiceLine
from canone.billing.invoicing import InvoiceStatus as InvoiceStatus
from canone.billing.invoicing import InvoiceTaxLine as InvoiceTaxLine
from canone.billing.parties import BillingDetails
from canone.billing.seller import Seller
from canone.services.ports import StoredCard
from canone.services.vies import ViesCheck


class AccountStatus(StrEnum):
    """The status of an account and of its subscription. Statuses are StrEnums: each member
    equals its string, which is what the database keeps and the JSON shows; the storage
    adapters give records their members back (db/rows.py)."""

    ACTIVE = "active"
    PAST_DUE = "past_due"  # restricted until the open invoices are paid
    CANCELLED = "cancelled"


ACTIVE, PAST_DUE, CANCELLED = AccountStatus.ACTIVE, AccountStatus.PAST_DUE, AccountStatus.CANCELLED


class IntentStatus(StrEnum):
    """A payment intent's, and a payment's (succeeded or failed)."""

    PENDING = "pending"  # committed; its charge's outcome is not settled yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentStatus(StrEnum):
    """A payment row's: a charge that succeeded or failed, or money going back (refunds,
    their reversal, a dispute, a returned SEPA debit), each a row of its own."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    REFUND_PENDING = "refund_pending"
    REFUND_FAILED = "refund_failed"  # a pending refund that failed: its money is back
    DISPUTED = "disputed"
    DEBIT_RETURNED = "debit_returned"  # a SEPA debit the bank took back


class RequestStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class OutboxStatus(StrEnum):
    """An outbox item's (an email) or a webhook delivery's."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"

# User roles.
PRIMARY_ADMIN = "primary_admin"
ADMIN = "admin"
USER = "user"


class Record:
    def but(self, **changes: Any) -> Self:
        """A copy with some fields changed (records are immutable). Made by copying the
        fields rather than with `dataclasses.replace`, which runs `__init__` again (10 us
        a copy; the billing run makes several per renewal). Records are plain frozen
        dataclasses: no `__post_init__`, nothing derived kept on the instance."""
        fields = self.__dataclass_fields__  # type: ignore[attr-defined]
        if not changes.keys() <= fields.keys():
            unknown = ", ".join(sorted(changes.keys() - fields.keys()))
            raise TypeError(f"{type(self).__name__} has no field {unknown}")
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, **changes)
        return copy


@quick_init
@dataclass(frozen=True)
class Account(Record):
    id: str
    name: str
    timezone: str
    locale: str  # "en" or "it"
    currency: str
    status: AccountStatus
    auto_upgrade: bool
    card: StoredCard | None
    created_at: datetime


@quick_init
@dataclass(frozen=True)
class User(Record):
    id: str
    account_id: str
    email: str
    name: str
    role: str  # PRIMARY_ADMIN, ADMIN or USER
    billing: bool  # an admin granted the billing permission by the primary admin
    active: bool
    password_hash: str


@quick_init
@dataclass(frozen=True)
class Staff(Record):
    id: str
    email: str
    name: str
    password_hash: str


@quick_init
@dataclass(frozen=True)
class Subscription(Record):
    id: str
    account_id: str
    config: Configuration
    anchor: date  # periods are computed from it (SPEC §2)
    period_start: date  # the period billed last
    period_end: date
    renews_at: datetime  # UTC instant of local midnight at period_end: when renewal is due
    status: AccountStatus
    pending: Configuration | None  # a scheduled change, applied at period_end
    cancel_at_period_end: bool
    version: int  # bumped by every change; quotes are bound to it


@quick_init
@dataclass(frozen=True)
class Invoice(Record, InvoiceAmounts):
    """An issued invoice. `total` is gross (`subtotal` + its tax lines); credit and
    payments settle it (`amount_due`). `issued_on` is its date in the seller's calendar
    (its yearly series too); `customer` and `seller` are the parties as they were when it
    was issued (None: issued before canone kept them, or without a seller)."""

    id: str
    account_id: str
    subscription_id: str
    number: str  # YYYY-NNNNNN, gapless per year of the seller's calendar
    kind: str  # "signup", "upgrade", "renewal" or "request"
    currency: str
    issued_at: datetime
    period_start: date | None
    period_end: date | None
    lines: tuple[InvoiceLine, ...]  # net
    total: int  # gross
    credit_applied: int
    amount_paid: int
    status: InvoiceStatus
    attempts: int = 0  # failed collection attempts so far
    next_attempt_at: datetime | None = None
    subtotal: int = field(kw_only=True)  # Σ lines (net)
    tax_lines: tuple[InvoiceTaxLine, ...] = field(kw_only=True)  # one per rate
    issued_on: date = field(kw_only=True)
    customer: BillingDetails | None = field(kw_only=True, default=None)
    seller: Seller | None = field(kw_only=True, default=None)


@quick_init
@dataclass(frozen=True)
class Payment(Record):
    id: str
    account_id: str
    invoice_id: str | None
    amount: int
    currency: str
    status: PaymentStatus
    charge_id: str | None
    idempotency_key: str
    message: str
    created_at: datetime


@quick_init
@dataclass(frozen=True)
class PaymentIntent(Record):
    """Written and committed before the card is charged, so a charge whose outcome was lost
    (crash, timeout) can be settled by reconciliation instead of charged again."""

    key: str  # the gateway idempotency key
    account_id: str | None  # None for a sign-up not created yet
    purpose: str  # "signup", "change" or "invoice"
    amount: int
    currency: str
    card_token: str
    payload: dict[str, Any]  # what to do once paid
    status: IntentStatus
    created_at: datetime
    result: dict[str, Any] | None = None  # the response once completed, for replays
    provider_id: str | None = None  # the provider's intent (Stripe: pi_…), once opened
    # A sign-up's primary admin's password hash, until it is settled: kept beside the
    # payload, never in it (payloads.SignUpPayload), and dropped once settled.
    password_hash: str | None = field(default=None, repr=False)


@quick_init
@dataclass(frozen=True)
class LedgerEntry(Record):
    id: str
    account_id: str
    amount: int  # + credit granted, − credit used
    currency: str
    description: str
    invoice_id: str | None
    created_at: datetime
    credit_note_id: str | None = None  # the credit note that granted this credit (SPEC §8)


@quick_init
@dataclass(frozen=True)
class RequestEvent:
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    message: str


@quick_init
@dataclass(frozen=True)
class ChangeRequest(Record):
    id: str
    account_id: str
    requester_email: str
    desired: Configuration | None
    reason: str
    message: str
    status: RequestStatus
    source: str  # "portal", "api" or "email"
    verified: bool  # False for inbound email: support confirms the sender first
    effective: str | None  # "period_end" or "now", once applied
    created_at: datetime
    updated_at: datetime
    history: tuple[RequestEvent, ...] = field(default=())


@quick_init
@dataclass(frozen=True)
class AuditEntry(Record):
    id: str
    account_id: str
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


@quick_init
@dataclass(frozen=True)
class Usage:
    account_id: str
    contacts: int
    active_users: int
    reported_at: datetime


@quick_init
@dataclass(frozen=True)
class Event(Record):
    """A state change, for webhooks and emails; written in the same transaction."""

    id: str
    type: str  # e.g. "subscription.changed"
    account_id: str | None
    data: dict[str, Any]
    created_at: datetime


@quick_init
@dataclass(frozen=True)
class AccountBillingDetails(Record):
    """An account's billing details as saved, with VIES's answer for its VAT id (§8)."""

    account_id: str
    details: BillingDetails
    vies: ViesCheck | None  # None: not checked (no VAT id, or not an EU business abroad)
    card_country: str | None  # the card's country, a second piece of evidence of where
    updated_at: datetime


# -- sign-in sessions, API keys, idempotency and webhooks ----------------------------------


@quick_init
@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    account_id: str | None  # None: an operator key (all accounts)
    key_hash: str
    created_at: datetime
    revoked: bool


@quick_init
@dataclass(frozen=True)
class WebSession:
    token_hash: str
    principal: str  # "user:<id>" or "staff:<id>"
    csrf: str
    expires_at: datetime


@quick_init
@dataclass(frozen=True)
class SessionOwner:
    """A web session with whoever it signs in, read together."""

    session: WebSession
    user: User | None  # for a "user:<id>" principal; None when that user is gone
    account: Account | None  # the user's account
    staff: Staff | None  # for a "staff:<id>" principal; None when gone


@quick_init
@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str  # who sent it (the API key id)
    key: str
    fingerprint: str  # method, path and body hash
    status_code: int
    body: bytes
    created_at: datetime


@quick_init
@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    account_id: str | None  # None: receives every account's events
    url: str
    events: tuple[str, ...]  # event types, or ("*",)
    secret: str
    created_at: datetime


@quick_init
@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    status: OutboxStatus  # pending, delivered or failed
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


# -- the outbox --------------------------------------------------------------------------


@quick_init
@dataclass(frozen=True)
class Notification(Record):
    """An email to send through the outbox, rendered later in the recipient's language."""

    id: str
    account_id: str | None
    to: str
    kind: str  # e.g. "purchase_confirmation", "request_status", "usage_threshold"
    locale: str
    data: dict[str, Any]
    created_at: datetime


@quick_init
@dataclass(frozen=True)
class OutboxItem:
    id: str
    channel: str  # "email" or "webhook"
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    status: OutboxStatus  # pending, sent or failed
    last_error: str | None
