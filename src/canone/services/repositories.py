"""The repositories of one unit of work (`Store`), one per aggregate.

Every read of a row that the transaction will change is made with `lock=True` (SELECT …
FOR UPDATE on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE). A taken unique
key is a `Conflict`; saving a row that does not exist is a `LookupError` (a programming
error). Methods ending in `_many` (or plural `add_…s`) do what their singular does for
several records, in order, in one statement per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from canone.services.documents import CreditNote, EInvoice
from canone.services.records import (
    Account,
    AccountBillingDetails,
    ApiKey,
    AuditEntry,
    ChangeRequest,
    Event,
    IdempotencyRecord,
    Invoice,
    LedgerEntry,
    Notification,
    OutboxItem,
    Payment,
    PaymentIntent,
    SessionOwner,
    Staff,
    Subscription,
    Usage,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebSession,
)


class Accounts(Protocol):
    """Accounts, their billing details (SPEC §8) and their customer at the payment provider."""

    def add(self, account: Account) -> None: ...
    def get(self, account_id: str, lock: bool = False) -> Account | None: ...
    def by_ids(self, account_ids: Sequence[str], lock: bool = False
               ) -> dict[str, Account]: ...  # in one query; missing ones left out
    def save(self, account: Account) -> None: ...
    def find(self, text: str | None, limit: int, after: str | None) -> list[Account]:
        """Accounts whose name, id or a user's email contains `text`, ordered by id."""
        ...
    def billing_details_of(self, account_id: str, lock: bool = False
                           ) -> AccountBillingDetails | None: ...
    def billing_details_by_ids(self, account_ids: Sequence[str]
                               ) -> dict[str, AccountBillingDetails]: ...  # in one query
    def save_billing_details(self, saved: AccountBillingDetails) -> None: ...  # insert/replace
    def payment_customer_of(self, account_id: str) -> str | None: ...  # Stripe: cus_…
    def save_payment_customer(self, account_id: str, customer_id: str) -> None: ...  # once
    def account_of_payment_customer(self, customer_id: str) -> str | None: ...
    def account_with_card(self, token: str) -> str | None: ...  # the card on file's token


class People(Protocol):
    """The users of accounts and the staff."""

    def add_user(self, user: User) -> None: ...  # Conflict on a taken email
    def get_user(self, user_id: str) -> User | None: ...
    def user_by_email(self, email: str) -> User | None: ...  # case-insensitive
    def users_of(self, account_id: str) -> list[User]: ...  # by email
    def users_of_accounts(self, account_ids: Sequence[str]) -> dict[str, list[User]]: ...
    def save_user(self, user: User) -> None: ...
    def add_staff(self, staff: Staff) -> None: ...
    def get_staff(self, staff_id: str) -> Staff | None: ...
    def staff_by_email(self, email: str) -> Staff | None: ...


class Subscriptions(Protocol):
    def add(self, subscription: Subscription) -> None: ...
    def of_account(self, account_id: str, lock: bool = False) -> Subscription | None: ...
    def save(self, subscription: Subscription) -> None: ...
    def save_many(self, subscriptions: Sequence[Subscription]) -> None: ...
    def claim_due(self, until: datetime, limit: int, skip: Sequence[str] = ()
                  ) -> list[Subscription]:
        """Subscriptions with renews_at <= until and status not CANCELLED, locked; rows
        locked by another transaction are skipped (SKIP LOCKED on PostgreSQL), and so are
        the subscriptions whose ids are in `skip` (e.g. those a run could not renew)."""
        ...


class Invoices(Protocol):
    def next_number(self, year: int) -> str:
        """The next number of `year` ("2026-000123"); gapless because the counter row is
        locked until this transaction ends."""
        ...
    def next_numbers(self, year: int, count: int) -> list[str]:
        """`count` consecutive numbers of `year` in one statement."""
        ...
    def add(self, invoice: Invoice) -> None:
        """Conflict when a renewal invoice for (subscription, period_start) exists."""
        ...
    def add_many(self, invoices: Sequence[Invoice]) -> None: ...  # Conflict: roll back
    def get(self, invoice_id: str) -> Invoice | None: ...
    def by_ids(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]: ...
    def save(self, invoice: Invoice) -> None: ...  # only status/paid/attempts change
    def save_many(self, invoices: Sequence[Invoice]) -> None: ...
    def of_account(self, account_id: str, limit: int, after: str | None
                   ) -> list[Invoice]: ...  # newest first
    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        """Whether the renewal invoice of (subscription, period_start) exists."""
        ...
    def to_collect(self, now: datetime, limit: int, account_id: str | None = None
                   ) -> list[Invoice]:
        """Open invoices whose next_attempt_at <= now (only the account's, if given),
        locked, SKIP LOCKED."""
        ...


class Payments(Protocol):
    """Payments made and the payment intents (idempotency keys of charges) behind them."""

    def add(self, payment: Payment) -> None: ...
    def add_many(self, payments: Sequence[Payment]) -> None: ...
    def of_account(self, account_id: str) -> list[Payment]: ...  # oldest first
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
    def pending_intents(self, created_before: datetime, limit: int
                        ) -> list[PaymentIntent]: ...  # oldest first, not locked
    def pending_intent_of(self, account_id: str) -> PaymentIntent | None: ...  # the newest


class Ledger(Protocol):
    """Each account's credit: entries, and their sum as its balance."""

    def add(self, entry: LedgerEntry) -> None: ...
    def add_many(self, entries: Sequence[LedgerEntry]) -> None: ...  # in order
    def of_account(self, account_id: str) -> list[LedgerEntry]: ...  # oldest first
    def balance_of(self, account_id: str) -> int: ...
    def balances_of(self, account_ids: Sequence[str]) -> dict[str, int]: ...  # one query


class Requests(Protocol):
    """Change requests to support, with their append-only history."""

    def add(self, request: ChangeRequest) -> None: ...
    def get(self, request_id: str, lock: bool = False) -> ChangeRequest | None: ...
    def save(self, request: ChangeRequest) -> None: ...  # history is append-only
    def of_account(self, account_id: str) -> list[ChangeRequest]: ...  # newest first
    def queue(self, status: str | None, limit: int, after: str | None
              ) -> list[ChangeRequest]: ...  # oldest first


class Audit(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def add_many(self, entries: Sequence[AuditEntry]) -> None: ...  # in order, one statement
    def of_account(self, account_id: str, limit: int, action: str | None = None
                   ) -> list[AuditEntry]: ...  # newest first; only `action`'s, if given


class UsageReports(Protocol):
    def save(self, usage: Usage) -> None: ...  # insert/replace
    def of_account(self, account_id: str) -> Usage | None: ...
    def note_threshold(self, account_id: str, period_start: date, threshold: int) -> bool:
        """Record that a usage threshold was reached in a period; False if already noted."""
        ...


class Outbox(Protocol):
    """Events with the webhook deliveries they queue, and the emails to send."""

    def add_event(self, event: Event) -> None:
        """Store the event and queue a webhook delivery for each matching endpoint."""
        ...
    def add_events(self, events: Sequence[Event]) -> None: ...  # add_event for several
    def events_of(self, account_id: str | None, limit: int) -> list[Event]: ...  # newest first
    def add_notification(self, notification: Notification) -> None: ...
    def add_notifications(self, notifications: Sequence[Notification]) -> None: ...
    def due_notifications(self, now: datetime, limit: int) -> list[OutboxItem]: ...  # locked
    def save_item(self, item: OutboxItem) -> None: ...
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def endpoints(self, account_id: str | None) -> list[WebhookEndpoint]: ...  # None: all
    def deliveries(self, account_id: str | None, limit: int, after: str | None
                   ) -> list[WebhookDelivery]: ...  # newest first
    def due_deliveries(self, now: datetime, limit: int) -> list[WebhookDelivery]: ...  # locked
    def save_delivery(self, delivery: WebhookDelivery) -> None: ...


class Access(Protocol):
    """What the web and API edges keep: API keys, web sessions, idempotency records."""

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


class Documents(Protocol):
    """Credit notes and the FatturaPA file of every invoice and credit note (SPEC §8)."""

    def next_credit_note_number(self, year: int) -> str:
        """"NC-2026-000001": gapless per year, as invoice numbers are (the counter row stays
        locked until the transaction ends)."""
        ...
    def next_sdi_progressive(self) -> int: ...  # of FatturaPA file names; never reused
    def add_credit_note(self, note: CreditNote) -> None: ...
    def get_credit_note(self, credit_note_id: str) -> CreditNote | None: ...
    def credit_notes_of(self, account_id: str, limit: int, after: str | None
                        ) -> list[CreditNote]: ...  # newest first
    def credit_notes_of_invoice(self, invoice_id: str) -> list[CreditNote]: ...  # oldest first
    def add_einvoice(self, file: EInvoice) -> None: ...
    def einvoice_of(self, document_id: str) -> EInvoice | None: ...
    def einvoices_of(self, document_ids: Sequence[str]) -> dict[str, EInvoice]: ...
    def einvoices_since(self, since: datetime) -> list[EInvoice]: ...  # oldest first
    def einvoices_to_hand_over(self, limit: int) -> list[EInvoice]: ...  # locked, SKIP LOCKED
    def einvoices_awaiting_sdi(self, file_names: Sequence[str]) -> dict[str, EInvoice]: ...
    def save_einvoice_state(self, file: EInvoice) -> None: ...
