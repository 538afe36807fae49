"""Many use cases in one transaction, in a few statements: the billing run renews and
collects in batches of hundreds, and one round trip per row per table would be most of its
time (bench/renewal.py).

`BatchStore` is a `Store` over the transaction's: what the batch reads for every item
(accounts, their people and billing details) is read once for all of them beforehand, and
the append-only rows every item writes (payments, audit entries, events, notifications)
are kept and written by `flush`, a statement per table, in the order they were added. Its
`accounts`, `people`, `payments`, `audit` and `outbox` are these buffering wrappers; every
other repository is the transaction's own. Rows that are read back within the batch
(invoices, intents, subscriptions) are not buffered here; a subclass that buffers one (by
wrapping its repository too) must make sure nothing reads it first.
"""

from __future__ import annotations

from datetime import datetime

from canone.services.forwarding import (
    ForwardAccounts,
    ForwardAudit,
    ForwardOutbox,
    ForwardPayments,
    ForwardPeople,
)
from canone.services.records import (
    Account,
    AccountBillingDetails,
    AuditEntry,
    Event,
    Notification,
    Payment,
    User,
)
from canone.services.repositories import Accounts, Audit, Outbox, Payments, People
from canone.services.store import Store


class BufferedAccounts(ForwardAccounts):
    """Serves the accounts read beforehand (a `lock=True` read only if they were read
    locked) and their billing details read beforehand (None: read, and there are none;
    never served locked), and keeps both up to date when saved."""

    def __init__(self, inner: Accounts, accounts: dict[str, Account], locked: bool,
                 details: dict[str, AccountBillingDetails | None]) -> None:
        super().__init__(inner)
        self.read = accounts
        self.locked = locked
        self.details = details

    def get(self, account_id: str, lock: bool = False) -> Account | None:
        if account_id in self.read and (self.locked or not lock):
            return self.read[account_id]
        return self.inner.get(account_id, lock)

    def save(self, account: Account) -> None:
        if account.id in self.read:
            self.read[account.id] = account
        self.inner.save(account)

    def billing_details_of(self, account_id: str, lock: bool = False
                           ) -> AccountBillingDetails | None:
        if account_id in self.details and not lock:
            return self.details[account_id]
        return self.inner.billing_details_of(account_id, lock)

    def save_billing_details(self, saved: AccountBillingDetails) -> None:
        if saved.account_id in self.details:
            self.details[saved.account_id] = saved
        self.inner.save_billing_details(saved)


class BufferedPeople(ForwardPeople):
    def __init__(self, inner: People, people: dict[str, list[User]]) -> None:
        super().__init__(inner)
        self.read = people

    def users_of(self, account_id: str) -> list[User]:
        if account_id in self.read:
            return self.read[account_id]
        return self.inner.users_of(account_id)


class BufferedPayments(ForwardPayments):
    def __init__(self, inner: Payments) -> None:
        super().__init__(inner)
        self.added: list[Payment] = []

    def add(self, payment: Payment) -> None:
        self.added.append(payment)

    def flush(self) -> None:
        self.inner.add_many(self.added)
        self.added = []


class BufferedAudit(ForwardAudit):
    def __init__(self, inner: Audit) -> None:
        super().__init__(inner)
        self.added: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        self.added.append(entry)

    def flush(self) -> None:
        self.inner.add_many(self.added)
        self.added = []


class BufferedOutbox(ForwardOutbox):
    def __init__(self, inner: Outbox) -> None:
        super().__init__(inner)
        self.events: list[Event] = []
        self.notifications: list[Notification] = []

    def add_event(self, event: Event) -> None:
        self.events.append(event)

    def add_notification(self, notification: Notification) -> None:
        self.notifications.append(notification)

    def flush(self) -> None:
        self.inner.add_events(self.events)
        self.inner.add_notifications(self.notifications)
        self.events, self.notifications = [], []


class BatchStore:
    def __init__(self, store: Store, accounts: dict[str, Account] | None = None, *,
                 accounts_locked: bool = False,
                 people: dict[str, list[User]] | None = None,
                 billing_details: dict[str, AccountBillingDetails | None] | None = None
                 ) -> None:
        self.store = store
        self.buffered_accounts = BufferedAccounts(store.accounts, accounts or {},
                                                  accounts_locked, billing_details or {})
        self.buffered_people = BufferedPeople(store.people, people or {})
        self.buffered_payments = BufferedPayments(store.payments)
        self.buffered_audit = BufferedAudit(store.audit)
        self.buffered_outbox = BufferedOutbox(store.outbox)
        # What a subclass may wrap as well: typed as the ports, so it can (the transaction's
        # own repositories are typed so already).
        self.accounts: Accounts = self.buffered_accounts
        self.people: People = self.buffered_people
        self.payments: Payments = self.buffered_payments
        self.audit: Audit = self.buffered_audit
        self.outbox: Outbox = self.buffered_outbox
        self.subscriptions = store.subscriptions
        self.invoices = store.invoices
        self.ledger = store.ledger
        self.requests = store.requests
        self.usage = store.usage
        self.access = store.access
        self.documents = store.documents

    def clock_override(self) -> datetime | None:
        return self.store.clock_override()

    def set_clock_override(self, now: datetime) -> None:
        self.store.set_clock_override(now)

    def flush(self) -> None:
        """Write what was buffered, a statement per table, in the order it was added."""
        self.buffered_payments.flush()
        self.buffered_audit.flush()
        self.buffered_outbox.flush()
