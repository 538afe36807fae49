"""The persistence port: a `Database` hands out transactions, each a `Store`.

One `with database.transaction() as store:` block is one atomic unit of work: it commits
when the block ends normally and rolls back on any exception. The store reaches the rows
through its repositories, one per aggregate (`store.accounts.get(…)`,
`store.invoices.next_number(…)`, …; see `canone.services.repositories`), all in that one
transaction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from canone.services.records import Notification, OutboxItem
from canone.services.repositories import (
    Access,
    Accounts,
    Audit,
    Documents,
    Invoices,
    Ledger,
    Outbox,
    Payments,
    People,
    Requests,
    Subscriptions,
    UsageReports,
)

__all__ = ["Database", "Notification", "OutboxItem", "Store"]


class Store(Protocol):
    """One unit of work: its repositories share its transaction."""

    @property
    def accounts(self) -> Accounts: ...
    @property
    def people(self) -> People: ...
    @property
    def subscriptions(self) -> Subscriptions: ...
    @property
    def invoices(self) -> Invoices: ...
    @property
    def payments(self) -> Payments: ...
    @property
    def ledger(self) -> Ledger: ...
    @property
    def requests(self) -> Requests: ...
    @property
    def audit(self) -> Audit: ...
    @property
    def usage(self) -> UsageReports: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def access(self) -> Access: ...
    @property
    def documents(self) -> Documents: ...

    # test mode: the time `canone clock` set, if any
    def clock_override(self) -> datetime | None: ...
    def set_clock_override(self, now: datetime) -> None: ...


class Database(Protocol):
    def transaction(self) -> AbstractContextManager[Store]: ...
    def read(self) -> AbstractContextManager[Store]:
        """A read for use cases that only read: it writes nothing. On SQLite a transaction
        always rolled back that does not take the write lock (no BEGIN IMMEDIATE), so
        readers never queue behind writers; on PostgreSQL each statement on its own
        (autocommit), as at READ COMMITTED each statement of a transaction sees a snapshot
        of its own anyway. Rows read in it cannot be locked (`lock=True` is for
        `transaction`)."""
        ...
