"""The repositories of the in-memory store (tests/memory_store.py), part two: change
requests, audit, usage, the outbox (events, webhook deliveries, emails) and access (API
keys, web sessions, idempotency records); and the helpers every repository uses."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from canone.db.rows import event_payload
from canone.services.errors import Conflict
from canone.services.records import (
    ApiKey,
    AuditEntry,
    ChangeRequest,
    Event,
    IdempotencyRecord,
    Notification,
    OutboxItem,
    OutboxStatus,
    SessionOwner,
    Usage,
    WebhookDelivery,
    WebhookEndpoint,
    WebSession,
)

if TYPE_CHECKING:
    from memory_store import Tables

K = TypeVar("K")
R = TypeVar("R")


class Table:
    """A repository over the transaction's copy of the tables."""

    def __init__(self, tables: Tables) -> None:
        self.t = tables


def stored(row: R) -> R:
    """The record as the SQL adapter reads it back: its instants in UTC (a naive one is a
    ValueError), its JSON documents (dicts) decoded from their JSON text, and so its
    children's (a request's history)."""
    if not is_dataclass(row) or isinstance(row, type):
        return row
    changes: dict[str, Any] = {}
    for f in fields(row):
        value = getattr(row, f.name)
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"naive datetime {value!r}: canone stores only aware instants")
            changes[f.name] = value.astimezone(UTC)
        elif isinstance(value, dict):
            changes[f.name] = json.loads(json.dumps(value, ensure_ascii=False))
        elif isinstance(value, tuple) and value and is_dataclass(value[0]):
            changes[f.name] = tuple(stored(child) for child in value)  # e.g. request history
    return replace(row, **changes) if changes else row


def put(table: dict[K, R], key: K, row: R) -> None:
    table[key] = stored(row)


def put_all(table: dict[K, R], rows: Iterable[tuple[K, R]]) -> None:
    for key, row in rows:
        put(table, key, row)


def insert(table: dict[K, R], key: K, row: R, what: str) -> None:
    if key in table:
        raise Conflict(f"{what} already exists")
    put(table, key, row)


def insert_all(table: dict[K, R], rows: list[tuple[K, R]], what: str) -> None:
    """`insert` of several rows (`what` names them): none is written if a key is taken."""
    if taken(table, (key for key, _ in rows)):
        raise Conflict(f"one of {len(rows)} {what} already exists")
    put_all(table, rows)


def replace_row(table: dict[K, R], key: K, row: R, what: str) -> None:
    if key not in table:
        raise LookupError(f"{what} does not exist")
    put(table, key, row)


def taken(stored: Iterable[Hashable], added: Iterable[Hashable]) -> bool:
    """Whether a unique key of the rows `added` is taken, by a stored row or by another added
    row (then none of them is written)."""
    seen = set(stored)
    for key in added:
        if key in seen:
            return True
        seen.add(key)
    return False


def page(rows: Iterable[R], table: dict[str, R], order: Callable[[R], Any],
         after: str | None, newest_first: bool) -> list[R]:
    """Keyset pagination over (order, id), as canone.db.queries.page: the rows past the row
    `after` (an id of `table`; none when it does not exist), in that order."""
    def key(row: R) -> tuple[Any, str]:
        return order(row), row.id  # type: ignore[attr-defined]

    ordered = sorted(rows, key=key, reverse=newest_first)
    if after is None:
        return ordered
    if after not in table:
        return []
    at = (order(table[after]), after)
    return [r for r in ordered if (key(r) < at if newest_first else key(r) > at)]


class MemoryRequests(Table):
    def add(self, request: ChangeRequest) -> None:
        insert(self.t.requests, request.id, request, f"request {request.id}")

    def get(self, request_id: str, lock: bool = False) -> ChangeRequest | None:
        return self.t.requests.get(request_id)

    def save(self, request: ChangeRequest) -> None:
        stored = self.t.requests.get(request.id)
        if stored is None:
            raise LookupError(f"request {request.id} does not exist")
        if len(stored.history) > len(request.history):
            raise ValueError(f"request {request.id}: history is append-only "
                             f"({len(stored.history)} events stored, "
                             f"{len(request.history)} given)")
        # The events stored stay as they were; only those beyond them are added.
        history = stored.history + request.history[len(stored.history):]
        put(self.t.requests, request.id, request.but(history=history))

    def of_account(self, account_id: str) -> list[ChangeRequest]:
        return sorted((r for r in self.t.requests.values() if r.account_id == account_id),
                      key=lambda r: (r.created_at, r.id), reverse=True)

    def queue(self, status: str | None, limit: int, after: str | None
              ) -> list[ChangeRequest]:
        found = page(self.t.requests.values(), self.t.requests, lambda r: r.created_at, after,
                     False)
        return [r for r in found if status in (None, r.status)][:limit]


class MemoryAudit(Table):
    def add(self, entry: AuditEntry) -> None:
        insert(self.t.audit, entry.id, entry, f"audit entry {entry.id}")

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        insert_all(self.t.audit, [(e.id, e) for e in entries], "audit entries")

    def of_account(self, account_id: str, limit: int, action: str | None = None
                   ) -> list[AuditEntry]:
        # Newest first by time, then by the order written (`seq`, newest first).
        mine = [e for e in self.t.audit.values()
                if e.account_id == account_id and action in (None, e.action)]
        return sorted(reversed(mine), key=lambda e: e.at, reverse=True)[:limit]


class MemoryUsage(Table):
    def save(self, usage: Usage) -> None:
        put(self.t.usage, usage.account_id, usage)

    def of_account(self, account_id: str) -> Usage | None:
        return self.t.usage.get(account_id)

    def note_threshold(self, account_id: str, period_start: date, threshold: int) -> bool:
        key = (account_id, period_start, threshold)
        if key in self.t.thresholds:
            return False
        self.t.thresholds[key] = True
        return True


class MemoryOutbox(Table):
    def add_event(self, event: Event) -> None:
        self.add_events([event])

    def add_events(self, events: Sequence[Event]) -> None:
        if taken(self.t.events, (e.id for e in events)):
            raise Conflict(f"one of {len(events)} events already exists")
        endpoints = self.endpoints(None)
        for event in events:
            put(self.t.events, event.id, event)
            for endpoint in endpoints:
                if endpoint.account_id in (None, event.account_id) and (
                        event.type in endpoint.events or "*" in endpoint.events):
                    self._deliver(endpoint, event)

    def _deliver(self, endpoint: WebhookEndpoint, event: Event) -> None:
        delivery = WebhookDelivery(
            f"whd_{secrets.token_hex(12)}", endpoint.id, event.id, event.type,
            event_payload(event), OutboxStatus.PENDING, 0, event.created_at, None, None,
            event.created_at)
        put(self.t.deliveries, delivery.id, delivery)
        self.t.delivery_accounts[delivery.id] = event.account_id

    def events_of(self, account_id: str | None, limit: int) -> list[Event]:
        newest_first = reversed(self.t.events.values())
        return [e for e in newest_first if account_id in (None, e.account_id)][:limit]

    def add_notification(self, notification: Notification) -> None:
        self.add_notifications([notification])

    def add_notifications(self, notifications: Sequence[Notification]) -> None:
        if taken(self.t.outbox, (n.id for n in notifications)):
            raise Conflict(f"one of {len(notifications)} notifications already exists")
        for n in notifications:
            payload = {"to": n.to, "kind": n.kind, "locale": n.locale, "data": n.data,
                       "account_id": n.account_id}
            put(self.t.outbox, n.id, OutboxItem(n.id, "email", payload, 0, n.created_at,
                                                OutboxStatus.PENDING, None))
            self.t.outbox_accounts[n.id] = n.account_id

    def due_notifications(self, now: datetime, limit: int) -> list[OutboxItem]:
        due = [i for i in self.t.outbox.values()  # in the order written (`seq`) for ties
               if i.channel == "email" and i.status == "pending" and i.next_attempt_at <= now]
        return sorted(due, key=lambda i: i.next_attempt_at)[:limit]

    def save_item(self, item: OutboxItem) -> None:
        stored = self.t.outbox.get(item.id)
        if stored is None:
            raise LookupError(f"outbox item {item.id} does not exist")
        put(self.t.outbox, item.id, replace(stored, attempts=item.attempts, status=item.status,
                                            next_attempt_at=item.next_attempt_at,
                                            last_error=item.last_error))

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        insert(self.t.endpoints, endpoint.id, endpoint, f"webhook endpoint {endpoint.id}")

    def endpoints(self, account_id: str | None) -> list[WebhookEndpoint]:
        return sorted((e for e in self.t.endpoints.values()
                       if account_id is None or e.account_id == account_id),
                      key=lambda e: (e.created_at, e.id))

    def deliveries(self, account_id: str | None, limit: int, after: str | None
                   ) -> list[WebhookDelivery]:
        mine = [d for d in self.t.deliveries.values()
                if account_id in (None, self.t.delivery_accounts[d.id])]
        return page(mine, self.t.deliveries, lambda d: d.created_at, after, True)[:limit]

    def due_deliveries(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        due = [d for d in self.t.deliveries.values()
               if d.status == "pending" and d.next_attempt_at <= now]
        return sorted(due, key=lambda d: (d.next_attempt_at, d.id))[:limit]

    def save_delivery(self, delivery: WebhookDelivery) -> None:
        stored = self.t.deliveries.get(delivery.id)
        if stored is None:
            raise LookupError(f"webhook delivery {delivery.id} does not exist")
        put(self.t.deliveries, delivery.id, replace(
            stored, status=delivery.status, attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_status_code=delivery.last_status_code, last_error=delivery.last_error))


class MemoryAccess(Table):
    def add_api_key(self, key: ApiKey) -> None:
        if taken((k.key_hash for k in self.t.api_keys.values()), [key.key_hash]):
            raise Conflict(f"API key {key.id} already exists")
        insert(self.t.api_keys, key.id, key, f"API key {key.id}")

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self.t.api_keys.values() if k.key_hash == key_hash), None)

    def list_api_keys(self) -> list[ApiKey]:
        return sorted(self.t.api_keys.values(), key=lambda k: (k.created_at, k.id))

    def save_api_key(self, key: ApiKey) -> None:
        replace_row(self.t.api_keys, key.id, key, f"API key {key.id}")

    def add_session(self, session: WebSession) -> None:
        insert(self.t.sessions, session.token_hash, session, "the session")

    def session_by_hash(self, token_hash: str) -> WebSession | None:
        return self.t.sessions.get(token_hash)

    def session_owner(self, token_hash: str) -> SessionOwner | None:
        session = self.t.sessions.get(token_hash)
        if session is None:
            return None
        kind, _, principal_id = session.principal.partition(":")
        user = self.t.users.get(principal_id) if kind == "user" else None
        account = None if user is None else self.t.accounts.get(user.account_id)
        member = self.t.staff.get(principal_id) if kind == "staff" else None
        return SessionOwner(session, user, account, member)

    def delete_session(self, token_hash: str) -> None:
        self.t.sessions.pop(token_hash, None)

    def get_idempotency(self, scope: str, key: str, lock: bool = False
                        ) -> IdempotencyRecord | None:
        return self.t.idempotency.get((scope, key))

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        insert(self.t.idempotency, (record.scope, record.key), record,
               f"idempotency key {record.key!r}")

    def finish_idempotency(self, record: IdempotencyRecord) -> None:
        stored = self.t.idempotency.get((record.scope, record.key))
        if stored is None:
            raise LookupError(f"idempotency key {record.key!r} does not exist")
        put(self.t.idempotency, (record.scope, record.key), replace(
            stored, status_code=record.status_code, body=record.body))

    def drop_idempotency(self, scope: str, key: str) -> None:
        self.t.idempotency.pop((scope, key), None)

    def renew_idempotency(self, scope: str, key: str, at: datetime) -> None:
        stored = self.t.idempotency.get((scope, key))
        if stored is not None and stored.status_code == 0:
            put(self.t.idempotency, (scope, key), replace(stored, created_at=at))

    def purge_idempotency(self, before: datetime) -> int:
        old = [k for k, r in self.t.idempotency.items() if r.created_at < before]
        for k in old:
            del self.t.idempotency[k]
        return len(old)
