"""Many use cases in one transaction, in a few statements: the billing run renews and
collects in batches of hundreds, and one round trip per row per table would be most of its
time (bench/renewal.py).

`BufferedStore` wraps the transaction's `Store`: what the batch reads for every item
(accounts, their people) is read once for all of them beforehand, and the append-only rows
every item writes (payments, audit entries, events, notifications) are kept and written by
`flush`, a statement per table, in the order they were added. Everything else goes straight
to the store. Rows that are read back within the batch (invoices, intents, subscriptions)
are not buffered here; a subclass that buffers one must make sure nothing reads it first.
"""

from __future__ import annotations

from typing import Any, cast

from canone.services.records import Account, AuditEntry, Event, Payment, User
from canone.services.store import Notification, Store


class BufferedStore:
    def __init__(self, store: Store, accounts: dict[str, Account] | None = None, *,
                 accounts_locked: bool = False,
                 people: dict[str, list[User]] | None = None) -> None:
        self.store = store
        self._accounts = accounts or {}
        self._accounts_locked = accounts_locked  # read FOR UPDATE: lock=True is served too
        self._people = people or {}
        self._payments: list[Payment] = []
        self._audits: list[AuditEntry] = []
        self._events: list[Event] = []
        self._notifications: list[Notification] = []

    def as_store(self) -> Store:
        return cast(Store, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def get_account(self, account_id: str, lock: bool = False) -> Account | None:
        if account_id in self._accounts and (self._accounts_locked or not lock):
            return self._accounts[account_id]
        return self.store.get_account(account_id, lock)

    def save_account(self, account: Account) -> None:
        if account.id in self._accounts:
            self._accounts[account.id] = account
        self.store.save_account(account)

    def users_of(self, account_id: str) -> list[User]:
        if account_id in self._people:
            return self._people[account_id]
        return self.store.users_of(account_id)

    def add_payment(self, payment: Payment) -> None:
        self._payments.append(payment)

    def add_audit(self, entry: AuditEntry) -> None:
        self._audits.append(entry)

    def add_event(self, event: Event) -> None:
        self._events.append(event)

    def add_notification(self, notification: Notification) -> None:
        self._notifications.append(notification)

    def flush(self) -> None:
        self.store.add_payments(self._payments)
        self.store.add_audits(self._audits)
        self.store.add_events(self._events)
        self.store.add_notifications(self._notifications)
        self._payments, self._audits, self._events, self._notifications = [], [], [], []
