"""Repositories that pass every call on to another one: the bases of the batch wrappers
(`canone.services.batching`), which override only what they buffer or serve from memory.
Spelled out method by method, so that the type checker sees each one and a method added to
a repository's port must be added here too (mypy says so where a wrapper is used)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from canone.services.documents import CreditNote, EInvoice
from canone.services.records import (
    Account,
    AccountBillingDetails,
    AuditEntry,
    Event,
    Invoice,
    LedgerEntry,
    Notification,
    OutboxItem,
    Payment,
    PaymentIntent,
    Staff,
    Subscription,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from canone.services.repositories import (
    Accounts,
    Audit,
    Documents,
    Invoices,
    Ledger,
    Outbox,
    Payments,
    People,
    Subscriptions,
)


class ForwardAccounts:
    def __init__(self, inner: Accounts) -> None:
        self.inner = inner

    def add(self, account: Account) -> None:
        self.inner.add(account)

    def get(self, account_id: str, lock: bool = False) -> Account | None:
        return self.inner.get(account_id, lock)

    def by_ids(self, account_ids: Sequence[str], lock: bool = False) -> dict[str, Account]:
        return self.inner.by_ids(account_ids, lock)

    def save(self, account: Account) -> None:
        self.inner.save(account)

    def find(self, text: str | None, limit: int, after: str | None) -> list[Account]:
        return self.inner.find(text, limit, after)

    def billing_details_of(self, account_id: str, lock: bool = False
                           ) -> AccountBillingDetails | None:
        return self.inner.billing_details_of(account_id, lock)

    def billing_details_by_ids(self, account_ids: Sequence[str]
                               ) -> dict[str, AccountBillingDetails]:
        return self.inner.billing_details_by_ids(account_ids)

    def save_billing_details(self, saved: AccountBillingDetails) -> None:
        self.inner.save_billing_details(saved)

    def payment_customer_of(self, account_id: str) -> str | None:
        return self.inner.payment_customer_of(account_id)

    def save_payment_customer(self, account_id: str, customer_id: str) -> None:
        self.inner.save_payment_customer(account_id, customer_id)

    def account_of_payment_customer(self, customer_id: str) -> str | None:
        return self.inner.account_of_payment_customer(customer_id)

    def account_with_card(self, token: str) -> str | None:
        return self.inner.account_with_card(token)


class ForwardPeople:
    def __init__(self, inner: People) -> None:
        self.inner = inner

    def add_user(self, user: User) -> None:
        self.inner.add_user(user)

    def get_user(self, user_id: str) -> User | None:
        return self.inner.get_user(user_id)

    def user_by_email(self, email: str) -> User | None:
        return self.inner.user_by_email(email)

    def users_of(self, account_id: str) -> list[User]:
        return self.inner.users_of(account_id)

    def users_of_accounts(self, account_ids: Sequence[str]) -> dict[str, list[User]]:
        return self.inner.users_of_accounts(account_ids)

    def save_user(self, user: User) -> None:
        self.inner.save_user(user)

    def add_staff(self, staff: Staff) -> None:
        self.inner.add_staff(staff)

    def get_staff(self, staff_id: str) -> Staff | None:
        return self.inner.get_staff(staff_id)

    def staff_by_email(self, email: str) -> Staff | None:
        return self.inner.staff_by_email(email)


class ForwardSubscriptions:
    def __init__(self, inner: Subscriptions) -> None:
        self.inner = inner

    def add(self, subscription: Subscription) -> None:
        self.inner.add(subscription)

    def of_account(self, account_id: str, lock: bool = False) -> Subscription | None:
        return self.inner.of_account(account_id, lock)

    def save(self, subscription: Subscription) -> None:
        self.inner.save(subscription)

    def save_many(self, subscriptions: Sequence[Subscription]) -> None:
        self.inner.save_many(subscriptions)

    def claim_due(self, until: datetime, limit: int, skip: Sequence[str] = ()
                  ) -> list[Subscription]:
        return self.inner.claim_due(until, limit, skip)


class ForwardInvoices:
    def __init__(self, inner: Invoices) -> None:
        self.inner = inner

    def next_number(self, year: int) -> str:
        return self.inner.next_number(year)

    def next_number_with_progressive(self, year: int) -> tuple[str, int]:
        return self.inner.next_number_with_progressive(year)

    def next_numbers(self, year: int, count: int) -> list[str]:
        return self.inner.next_numbers(year, count)

    def add(self, invoice: Invoice) -> None:
        self.inner.add(invoice)

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        self.inner.add_many(invoices)

    def get(self, invoice_id: str) -> Invoice | None:
        return self.inner.get(invoice_id)

    def by_ids(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        return self.inner.by_ids(invoice_ids)

    def save(self, invoice: Invoice) -> None:
        self.inner.save(invoice)

    def save_many(self, invoices: Sequence[Invoice]) -> None:
        self.inner.save_many(invoices)

    def of_account(self, account_id: str, limit: int, after: str | None) -> list[Invoice]:
        return self.inner.of_account(account_id, limit, after)

    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        return self.inner.renewal_invoiced(subscription_id, period_start)

    def to_collect(self, now: datetime, limit: int, account_id: str | None = None) -> list[Invoice]:
        return self.inner.to_collect(now, limit, account_id)

    def disputed(self, limit: int) -> list[Invoice]:
        return self.inner.disputed(limit)


class ForwardPayments:
    def __init__(self, inner: Payments) -> None:
        self.inner = inner

    def add(self, payment: Payment) -> None:
        self.inner.add(payment)

    def add_many(self, payments: Sequence[Payment]) -> None:
        self.inner.add_many(payments)

    def of_account(self, account_id: str) -> list[Payment]:
        return self.inner.of_account(account_id)

    def add_intent(self, intent: PaymentIntent) -> None:
        self.inner.add_intent(intent)

    def add_intents(self, intents: Sequence[PaymentIntent]) -> None:
        self.inner.add_intents(intents)

    def get_intent(self, key: str, lock: bool = False) -> PaymentIntent | None:
        return self.inner.get_intent(key, lock)

    def intents_by_key(self, keys: Sequence[str], lock: bool = False) -> dict[str, PaymentIntent]:
        return self.inner.intents_by_key(keys, lock)

    def save_intent(self, intent: PaymentIntent) -> None:
        self.inner.save_intent(intent)

    def save_intents(self, intents: Sequence[PaymentIntent]) -> None:
        self.inner.save_intents(intents)

    def save_provider_ids(self, opened: Sequence[tuple[str, str]]) -> None:
        self.inner.save_provider_ids(opened)

    def save_outcomes(self, intents: Sequence[PaymentIntent]) -> None:
        self.inner.save_outcomes(intents)

    def pending_intents(self, created_before: datetime, limit: int) -> list[PaymentIntent]:
        return self.inner.pending_intents(created_before, limit)

    def unrefunded_stale(self, created_after: datetime, limit: int) -> list[PaymentIntent]:
        return self.inner.unrefunded_stale(created_after, limit)

    def pending_intent_of(self, account_id: str) -> PaymentIntent | None:
        return self.inner.pending_intent_of(account_id)

    def lock_signups_of(self, email: str) -> None:
        self.inner.lock_signups_of(email)

    def pending_signups_of(self, email: str) -> list[PaymentIntent]:
        return self.inner.pending_signups_of(email)


class ForwardLedger:
    def __init__(self, inner: Ledger) -> None:
        self.inner = inner

    def add(self, entry: LedgerEntry) -> None:
        self.inner.add(entry)

    def add_many(self, entries: Sequence[LedgerEntry]) -> None:
        self.inner.add_many(entries)

    def of_account(self, account_id: str) -> list[LedgerEntry]:
        return self.inner.of_account(account_id)

    def balance_of(self, account_id: str) -> int:
        return self.inner.balance_of(account_id)

    def balances_of(self, account_ids: Sequence[str]) -> dict[str, int]:
        return self.inner.balances_of(account_ids)


class ForwardAudit:
    def __init__(self, inner: Audit) -> None:
        self.inner = inner

    def add(self, entry: AuditEntry) -> None:
        self.inner.add(entry)

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        self.inner.add_many(entries)

    def of_account(self, account_id: str, limit: int, action: str | None = None
                   ) -> list[AuditEntry]:
        return self.inner.of_account(account_id, limit, action)


class ForwardOutbox:
    def __init__(self, inner: Outbox) -> None:
        self.inner = inner

    def add_event(self, event: Event) -> None:
        self.inner.add_event(event)

    def add_events(self, events: Sequence[Event]) -> None:
        self.inner.add_events(events)

    def events_of(self, account_id: str | None, limit: int) -> list[Event]:
        return self.inner.events_of(account_id, limit)

    def add_notification(self, notification: Notification) -> None:
        self.inner.add_notification(notification)

    def add_notifications(self, notifications: Sequence[Notification]) -> None:
        self.inner.add_notifications(notifications)

    def due_notifications(self, now: datetime, limit: int) -> list[OutboxItem]:
        return self.inner.due_notifications(now, limit)

    def save_item(self, item: OutboxItem) -> None:
        self.inner.save_item(item)

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.inner.add_endpoint(endpoint)

    def endpoints(self, account_id: str | None) -> list[WebhookEndpoint]:
        return self.inner.endpoints(account_id)

    def deliveries(self, account_id: str | None, limit: int, after: str | None
                   ) -> list[WebhookDelivery]:
        return self.inner.deliveries(account_id, limit, after)

    def due_deliveries(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        return self.inner.due_deliveries(now, limit)

    def save_delivery(self, delivery: WebhookDelivery) -> None:
        self.inner.save_delivery(delivery)


class ForwardDocuments:
    def __init__(self, inner: Documents) -> None:
        self.inner = inner

    def next_credit_note_number(self, year: int) -> str:
        return self.inner.next_credit_note_number(year)

    def lock_credit_note_series(self, year: int) -> None:
        self.inner.lock_credit_note_series(year)

    def next_sdi_progressive(self) -> int:
        return self.inner.next_sdi_progressive()

    def next_sdi_progressives(self, count: int) -> list[int]:
        return self.inner.next_sdi_progressives(count)

    def add_credit_note(self, note: CreditNote) -> None:
        self.inner.add_credit_note(note)

    def get_credit_note(self, credit_note_id: str) -> CreditNote | None:
        return self.inner.get_credit_note(credit_note_id)

    def credit_notes_of(self, account_id: str, limit: int, after: str | None
                        ) -> list[CreditNote]:
        return self.inner.credit_notes_of(account_id, limit, after)

    def credit_notes_of_invoice(self, invoice_id: str) -> list[CreditNote]:
        return self.inner.credit_notes_of_invoice(invoice_id)

    def add_einvoice(self, file: EInvoice) -> None:
        self.inner.add_einvoice(file)

    def add_einvoices(self, files: Sequence[EInvoice]) -> None:
        self.inner.add_einvoices(files)

    def einvoice_of(self, document_id: str) -> EInvoice | None:
        return self.inner.einvoice_of(document_id)

    def einvoices_of(self, document_ids: Sequence[str]) -> dict[str, EInvoice]:
        return self.inner.einvoices_of(document_ids)

    def einvoices_since(self, since: datetime) -> list[EInvoice]:
        return self.inner.einvoices_since(since)

    def einvoices_to_hand_over(self, limit: int) -> list[EInvoice]:
        return self.inner.einvoices_to_hand_over(limit)

    def einvoices_awaiting_sdi(self, file_names: Sequence[str]) -> dict[str, EInvoice]:
        return self.inner.einvoices_awaiting_sdi(file_names)

    def save_einvoice_state(self, file: EInvoice) -> None:
        self.inner.save_einvoice_state(file)
