"""What a test reads back of what the store holds, each in a transaction of its own:
`stored.invoices(svc, account_id)`, `stored.balance(…)`. For the services, console and
database tests, on every backend (the in-memory store too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from canone.services.context import Services
from canone.services.records import Account, Invoice, LedgerEntry, Payment, Subscription
from memory_store import MemoryDatabase


def subscription(svc: Services, account_id: str) -> Subscription:
    with svc.database.transaction() as store:
        sub = store.subscriptions.of_account(account_id)
    assert sub is not None
    return sub


def account(svc: Services, account_id: str) -> Account:
    with svc.database.transaction() as store:
        found = store.accounts.get(account_id)
    assert found is not None
    return found


def invoices(svc: Services, account_id: str) -> list[Invoice]:
    """Oldest first."""
    with svc.database.transaction() as store:
        return sorted(store.invoices.of_account(account_id, 10_000, None), key=lambda i: i.number)


def payments(svc: Services, account_id: str) -> list[Payment]:
    with svc.database.transaction() as store:
        return store.payments.of_account(account_id)


def ledger(svc: Services, account_id: str) -> list[LedgerEntry]:
    with svc.database.transaction() as store:
        return store.ledger.of_account(account_id)


def balance(svc: Services, account_id: str) -> int:
    with svc.database.transaction() as store:
        return store.ledger.balance_of(account_id)


def notifications(svc: Services, account_id: str | None = None) -> list[dict[str, Any]]:
    """Queued emails (outbox payloads: to, kind, locale, data, account_id), oldest first."""
    with svc.database.transaction() as store:
        items = store.outbox.due_notifications(datetime(9999, 1, 1, tzinfo=UTC), 100_000)
    found = sorted(items, key=lambda item: item.next_attempt_at)
    return [item.payload for item in found
            if account_id is None or item.payload["account_id"] == account_id]


def kinds(svc: Services, account_id: str) -> list[str]:
    return [n["kind"] for n in notifications(svc, account_id)]


# The in-memory store's name of an SQL table, where they differ.
_MEMORY_TABLES = {"payment_intents": "intents", "ledger_entries": "ledger"}


def count_rows(svc: Services, table: str) -> int:
    from sqlalchemy import text

    if isinstance(svc.database, MemoryDatabase):
        return len(svc.database.table(_MEMORY_TABLES.get(table, table)))
    with svc.database.transaction() as store:
        connection = store.connection  # type: ignore[attr-defined]
        return int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
