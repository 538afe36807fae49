"""An in-memory `Database` and `Store`: the persistence port of the services kept in dicts, for
running the services tests without SQL (tests/services/conftest.py runs them on it as well
as on SQLite and PostgreSQL).

What it honours, as the SQL adapter does:
- a transaction sees a copy of the committed tables (copy on begin) and replaces them when it
  ends normally; an exception drops the copy (rollback), so nothing is half-applied;
- transactions that write take turns (one lock, as SQLite's BEGIN IMMEDIATE), so `lock=True`
  has nothing more to do, and a work queue (`claim_due`, …) finds nothing locked by others
  (SKIP LOCKED in a single process);
- `read()` works on a copy that is always dropped, and does not wait for writers;
- a taken unique key is `Conflict` and writes nothing (of a batch: nothing of it); saving a
  missing row is `LookupError`; invoice numbers are gapless (the counter is rolled back).
Records are frozen dataclasses, kept as given: containers are copied, records are not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

from canone.services import records
from canone.services.documents import CreditNote, EInvoice
from canone.services.store import Database
from memory_documents import MemoryDocuments
from memory_edges import MemoryAccess, MemoryAudit, MemoryOutbox, MemoryRequests, MemoryUsage
from memory_repositories import (
    MemoryAccounts,
    MemoryInvoices,
    MemoryLedger,
    MemoryPayments,
    MemoryPeople,
    MemorySubscriptions,
)

# How long a writer waits for the one before it (SQLite's busy timeout).
_WAIT_SECONDS = 30


@dataclass
class Tables:
    """Every table, by primary key; dicts keep the order rows were added in (their `seq`)."""

    accounts: dict[str, records.Account] = field(default_factory=dict)
    users: dict[str, records.User] = field(default_factory=dict)
    staff: dict[str, records.Staff] = field(default_factory=dict)
    billing_details: dict[str, records.AccountBillingDetails] = field(default_factory=dict)
    payment_customers: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, records.Subscription] = field(default_factory=dict)
    invoice_counters: dict[int, int] = field(default_factory=dict)
    invoices: dict[str, records.Invoice] = field(default_factory=dict)
    payments: dict[str, records.Payment] = field(default_factory=dict)
    intents: dict[str, records.PaymentIntent] = field(default_factory=dict)
    ledger: dict[str, records.LedgerEntry] = field(default_factory=dict)
    requests: dict[str, records.ChangeRequest] = field(default_factory=dict)
    audit: dict[str, records.AuditEntry] = field(default_factory=dict)
    usage: dict[str, records.Usage] = field(default_factory=dict)
    thresholds: dict[tuple[str, date, int], bool] = field(default_factory=dict)
    events: dict[str, records.Event] = field(default_factory=dict)
    outbox: dict[str, records.OutboxItem] = field(default_factory=dict)
    outbox_accounts: dict[str, str | None] = field(default_factory=dict)  # item id -> account
    endpoints: dict[str, records.WebhookEndpoint] = field(default_factory=dict)
    deliveries: dict[str, records.WebhookDelivery] = field(default_factory=dict)
    delivery_accounts: dict[str, str | None] = field(default_factory=dict)
    api_keys: dict[str, records.ApiKey] = field(default_factory=dict)
    sessions: dict[str, records.WebSession] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], records.IdempotencyRecord] = field(default_factory=dict)
    clock: list[datetime] = field(default_factory=list)  # the override, if set
    document_counters: dict[str, int] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    einvoices: dict[str, EInvoice] = field(default_factory=dict)

    def copy(self) -> Tables:
        return Tables(**{f.name: type(getattr(self, f.name))(getattr(self, f.name))
                         for f in fields(self)})


class MemoryStore:
    """One unit of work on a copy of the tables."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.accounts = MemoryAccounts(tables)
        self.people = MemoryPeople(tables)
        self.subscriptions = MemorySubscriptions(tables)
        self.invoices = MemoryInvoices(tables)
        self.payments = MemoryPayments(tables)
        self.ledger = MemoryLedger(tables)
        self.requests = MemoryRequests(tables)
        self.audit = MemoryAudit(tables)
        self.usage = MemoryUsage(tables)
        self.outbox = MemoryOutbox(tables)
        self.access = MemoryAccess(tables)
        self.documents = MemoryDocuments(tables)

    def clock_override(self) -> datetime | None:
        return self.tables.clock[0] if self.tables.clock else None

    def set_clock_override(self, now: datetime) -> None:
        self.tables.clock[:] = [now.astimezone(UTC)]  # an instant, read back in UTC


class MemoryDatabase:
    """The `Database` port in memory."""

    postgres = False

    def __init__(self) -> None:
        self.committed = Tables()
        self._writer = threading.Lock()
        self.commits = 0  # for tests of the fake itself

    @contextmanager
    def transaction(self) -> Iterator[MemoryStore]:
        if not self._writer.acquire(timeout=_WAIT_SECONDS):
            raise TimeoutError("another transaction kept the memory database locked")
        try:
            working = self.committed.copy()
            yield MemoryStore(working)
            self.committed = working  # reached only when the block ended normally
            self.commits += 1
        finally:
            self._writer.release()

    @contextmanager
    def read(self) -> Iterator[MemoryStore]:
        yield MemoryStore(self.committed.copy())  # whatever it writes is dropped

    def table(self, name: str) -> Any:
        """A committed table, for assertions."""
        return getattr(self.committed, name)


def _implements_the_port(database: MemoryDatabase) -> Database:
    """Never called: mypy (`mypy tests/memory_*.py`) checks that the fake is a `Database`
    whose transactions are `Store`s with every repository method the ports list."""
    return database
