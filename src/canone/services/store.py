"""The persistence port: a `Database` hands out transactions, each a `Store`.

One `with database.transaction() as store:` block is one atomic unit of work: it commits
when the block ends normally and rolls back on any exception. Every read of a row that the
block will change is made with `lock=True` (SELECT … FOR UPDATE on PostgreSQL; SQLite
serialises writers with BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from canone.services.records import (
    Account,
    AccountBillingDetails,
    AuditEntry,
    ChangeRequest,
    Event,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentIntent,
    Staff,
    Subscription,
    Usage,
    User,
)


class Conflict(Exception):
    """A uniqueness rule refused the write (duplicate key, invoice for a billed period)."""


@dataclass(frozen=True)
class Notification:
    """An email to send through the outbox, rendered later in the recipient's language."""

    id: str
    account_id: str | None
    to: str
    kind: str  # e.g. "purchase_confirmation", "request_status", "usage_threshold"
    locale: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    id: str
    channel: str  # "email" or "webhook"
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    status: str  # "pending", "sent", "failed"
    last_error: str | None


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    account_id: str | None  # None: an operator key (all accounts)
    key_hash: str
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class WebSession:
    token_hash: str
    principal: str  # "user:<id>" or "staff:<id>"
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionOwner:
    """A web session with whoever it signs in, read together."""

    session: WebSession
    user: User | None  # for a "user:<id>" principal; None when that user is gone
    account: Account | None  # the user's account
    staff: Staff | None  # for a "staff:<id>" principal; None when gone


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str  # who sent it (the API key id)
    key: str
    fingerprint: str  # method, path and body hash
    status_code: int
    body: bytes
    created_at: datetime


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    account_id: str | None  # None: receives every account's events
    url: str
    events: tuple[str, ...]  # event types, or ("*",)
    secret: str
    created_at: datetime


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    status: str  # "pending", "delivered", "failed"
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


class Store(Protocol):
    # accounts, users, staff
    def add_account(self, account: Account) -> None: ...
    def get_account(self, account_id: str, lock: bool = False) -> Account | None: ...
    def accounts_by_id(self, account_ids: Sequence[str], lock: bool = False
                       ) -> dict[str, Account]: ...  # in one query; missing ones left out
    def save_account(self, account: Account) -> None: ...
    def find_accounts(self, text: str | None, limit: int, after: str | None) -> list[Account]: ...
    def add_user(self, user: User) -> None: ...  # Conflict on a taken email
    def get_user(self, user_id: str) -> User | None: ...
    def user_by_email(self, email: str) -> User | None: ...  # case-insensitive
    def users_of(self, account_id: str) -> list[User]: ...
    def users_of_accounts(self, account_ids: Sequence[str]) -> dict[str, list[User]]: ...
    def save_user(self, user: User) -> None: ...
    def add_staff(self, staff: Staff) -> None: ...
    def get_staff(self, staff_id: str) -> Staff | None: ...
    def staff_by_email(self, email: str) -> Staff | None: ...

    # billing details (SPEC §8)
    def billing_details_of(self, account_id: str, lock: bool = False
                           ) -> AccountBillingDetails | None: ...
    def save_billing_details(self, saved: AccountBillingDetails) -> None: ...  # insert/replace
    def payment_customer_of(self, account_id: str) -> str | None: ...  # Stripe: cus_…
    def save_payment_customer(self, account_id: str, customer_id: str) -> None: ...  # once

    # subscriptions
    def add_subscription(self, subscription: Subscription) -> None: ...
    def subscription_of(self, account_id: str, lock: bool = False) -> Subscription | None: ...
    def save_subscription(self, subscription: Subscription) -> None: ...
    def save_subscriptions(self, subscriptions: Sequence[Subscription]) -> None: ...
    def claim_due(self, until: datetime, limit: int, skip: Sequence[str] = ()
                  ) -> list[Subscription]:
        """Subscriptions with renews_at <= until and status not CANCELLED-and-ended, locked;
        rows locked by another transaction are skipped (SKIP LOCKED on PostgreSQL), and so
        are the subscriptions whose ids are in `skip` (e.g. those a run could not renew)."""
        ...

    # invoices, payments, intents, ledger
    def next_invoice_number(self, year: int) -> str:
        """The next number of `year` ("2026-000123"); gapless because the counter row is
        locked until this transaction ends."""
        ...
    def next_invoice_numbers(self, year: int, count: int) -> list[str]:
        """`count` consecutive numbers of `year` in one statement."""
        ...
    def add_invoice(self, invoice: Invoice) -> None:
        """Conflict when a renewal invoice for (subscription, period_start) exists."""
        ...
    def add_invoices(self, invoices: Sequence[Invoice]) -> None:
        """Several in one go; Conflict (then roll back) when any key is taken."""
        ...
    def get_invoice(self, invoice_id: str) -> Invoice | None: ...
    def invoices_by_id(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]: ...
    def save_invoice(self, invoice: Invoice) -> None: ...  # only status/paid/attempts change
    def save_invoices(self, invoices: Sequence[Invoice]) -> None: ...
    def invoices_of(self, account_id: str, limit: int, after: str | None) -> list[Invoice]: ...
    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        """Whether the renewal invoice of (subscription, period_start) exists."""
        ...
    def invoices_to_collect(self, now: datetime, limit: int, account_id: str | None = None
                            ) -> list[Invoice]:
        """Open invoices whose next_attempt_at <= now (only the account's, if given),
        locked, SKIP LOCKED."""
        ...
    def add_payment(self, payment: Payment) -> None: ...
    def add_payments(self, payments: Sequence[Payment]) -> None: ...
    def payments_of(self, account_id: str) -> list[Payment]: ...
    def add_intent(self, intent: PaymentIntent) -> None: ...  # Conflict on a taken key
    def add_intents(self, intents: Sequence[PaymentIntent]) -> None: ...  # Conflict: roll back
    def get_intent(self, key: str, lock: bool = False) -> PaymentIntent | None: ...
    def intents_by_key(self, keys: Sequence[str], lock: bool = False
                       ) -> dict[str, PaymentIntent]: ...  # locked in key order
    def save_intent(self, intent: PaymentIntent) -> None: ...
    def save_intents(self, intents: Sequence[PaymentIntent]) -> None: ...
    def save_provider_ids(self, opened: Sequence[tuple[str, str]]) -> None: ...  # (key, id)
    def save_outcomes(self, intents: Sequence[PaymentIntent]) -> None:
        """`save_intents` that writes only their status and result (what settling changes,
        but for a sign-up's account_id): the caller vouches that nothing else changed."""
        ...
    def pending_intents(self, created_before: datetime, limit: int) -> list[PaymentIntent]: ...
    def pending_intent_of(self, account_id: str) -> PaymentIntent | None: ...
    def add_ledger_entry(self, entry: LedgerEntry) -> None: ...
    def add_ledger_entries(self, entries: Sequence[LedgerEntry]) -> None: ...  # in order
    def ledger_of(self, account_id: str) -> list[LedgerEntry]: ...  # oldest first
    def balance_of(self, account_id: str) -> int: ...
    def balances_of(self, account_ids: Sequence[str]) -> dict[str, int]: ...  # one query

    # change requests, audit, usage
    def add_request(self, request: ChangeRequest) -> None: ...
    def get_request(self, request_id: str, lock: bool = False) -> ChangeRequest | None: ...
    def save_request(self, request: ChangeRequest) -> None: ...  # history is append-only
    def requests_of(self, account_id: str) -> list[ChangeRequest]: ...  # newest first
    def request_queue(self, status: str | None, limit: int, after: str | None
                      ) -> list[ChangeRequest]: ...  # oldest first
    def add_audit(self, entry: AuditEntry) -> None: ...
    def add_audits(self, entries: Sequence[AuditEntry]) -> None: ...  # in order, one statement
    def audit_of(self, account_id: str, limit: int, action: str | None = None
                 ) -> list[AuditEntry]: ...  # newest first; only `action`'s, if given
    def save_usage(self, usage: Usage) -> None: ...
    def usage_of(self, account_id: str) -> Usage | None: ...
    def note_threshold(self, account_id: str, period_start: date, threshold: int) -> bool:
        """Record that a usage threshold was reached in a period; False if already noted."""
        ...

    # events, notifications and their outbox
    def add_event(self, event: Event) -> None:
        """Store the event and queue a webhook delivery for each matching endpoint."""
        ...
    def add_events(self, events: Sequence[Event]) -> None: ...  # add_event for several, in order
    def add_notification(self, notification: Notification) -> None: ...
    def add_notifications(self, notifications: Sequence[Notification]) -> None: ...
    def events_of(self, account_id: str | None, limit: int) -> list[Event]: ...

    # the web and API edges
    def add_api_key(self, key: ApiKey) -> None: ...
    def api_key_by_hash(self, key_hash: str) -> ApiKey | None: ...
    def list_api_keys(self) -> list[ApiKey]: ...
    def save_api_key(self, key: ApiKey) -> None: ...
    def add_session(self, session: WebSession) -> None: ...
    def session_by_hash(self, token_hash: str) -> WebSession | None: ...
    def session_owner(self, token_hash: str) -> SessionOwner | None:
        """The session with its user and the user's account, or its staff member, in one
        query."""
        ...
    def delete_session(self, token_hash: str) -> None: ...
    def get_idempotency(self, scope: str, key: str, lock: bool = False
                        ) -> IdempotencyRecord | None: ...
    def save_idempotency(self, record: IdempotencyRecord) -> None: ...  # Conflict if present
    def finish_idempotency(self, record: IdempotencyRecord) -> None:
        """Store the response (status, body) of the record claimed with `save_idempotency`."""
        ...
    def drop_idempotency(self, scope: str, key: str) -> None:
        """Forget a claimed key whose request must be retried (e.g. a server error)."""
        ...
    def renew_idempotency(self, scope: str, key: str, at: datetime) -> None:
        """Renew the lease of a claimed key whose request still runs (its `created_at`)."""
        ...
    def purge_idempotency(self, before: datetime) -> int: ...
    def add_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def webhook_endpoints(self, account_id: str | None) -> list[WebhookEndpoint]: ...
    def webhook_deliveries(self, account_id: str | None, limit: int, after: str | None
                           ) -> list[WebhookDelivery]: ...
    def due_deliveries(self, now: datetime, limit: int) -> list[WebhookDelivery]: ...  # locked
    def save_delivery(self, delivery: WebhookDelivery) -> None: ...
    def due_notifications(self, now: datetime, limit: int) -> list[OutboxItem]: ...  # locked
    def save_outbox_item(self, item: OutboxItem) -> None: ...

    # test mode
    def clock_override(self) -> datetime | None: ...
    def set_clock_override(self, now: datetime) -> None: ...


class Database(Protocol):
    def transaction(self) -> AbstractContextManager[Store]: ...
    def read(self) -> AbstractContextManager[Store]:
        """A read-only transaction for use cases that only read: it writes nothing and is
        always rolled back. On SQLite it does not take the write lock (no BEGIN IMMEDIATE),
        so readers never queue behind writers; PostgreSQL runs it READ ONLY. Rows read in
        it cannot be locked (`lock=True` is for `transaction`)."""
        ...
