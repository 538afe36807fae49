"""Change requests (with their history), audit entries and usage reports on the
transaction's connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, func, select

from canone.db import rows
from canone.db.queries import Prepared, Queries, keyed, page
from canone.db.tables import (
    audit_entries,
    change_request_events,
    change_requests,
    usage,
    usage_thresholds,
)
from canone.services.records import AuditEntry, ChangeRequest, Usage

_USAGE_OF = Prepared(keyed(usage, "account_id"))
# An account's requests, newest first: every billing page reads them.
_REQUESTS_OF = Prepared(keyed(change_requests, "account_id", limit=None)
                        .order_by(change_requests.c.created_at.desc(),
                                  change_requests.c.id.desc()))


class SqlRequests(Queries):
    def add(self, request: ChangeRequest) -> None:
        self.insert_new(change_requests, rows.request_values(request), f"request {request.id}")
        self.insert_all(change_request_events, rows.request_event_values(request, 0))

    def get(self, request_id: str, lock: bool = False) -> ChangeRequest | None:
        query = select(change_requests).where(change_requests.c.id == request_id)
        found = self._with_history(self.all(self.locked(query, lock)))
        return found[0] if found else None

    def save(self, request: ChangeRequest) -> None:
        """Update the request and append the history events not stored yet."""
        self.update(change_requests, change_requests.c.id == request.id,
                    rows.request_values(request), f"request {request.id}")
        e = change_request_events.c
        stored = self.connection.execute(
            select(func.count()).where(e.request_id == request.id)).scalar_one()
        if stored > len(request.history):
            raise ValueError(f"request {request.id}: history is append-only ({stored} events "
                             f"stored, {len(request.history)} given)")
        self.insert_all(change_request_events, rows.request_event_values(request, stored))

    def of_account(self, account_id: str) -> list[ChangeRequest]:
        """Newest first."""
        return self._with_history(self.prepared(_REQUESTS_OF, {"account_id": account_id}))

    def queue(self, status: str | None, limit: int, after: str | None
              ) -> list[ChangeRequest]:
        """Oldest first, optionally only those in `status`."""
        c = change_requests.c
        past, by = page(change_requests, c.created_at, after, newest_first=False)
        query = select(change_requests).where(past).order_by(*by).limit(limit)
        if status is not None:
            query = query.where(c.status == status)
        return self._with_history(self.all(query))


    def _with_history(self, found: Sequence[Row[Any]]) -> list[ChangeRequest]:
        if not found:
            return []
        e = change_request_events.c
        history: dict[str, list[Row[Any]]] = defaultdict(list)
        query = (select(change_request_events)
                 .where(self.among(e.request_id, [r.id for r in found]))
                 .order_by(e.request_id, e.position))
        for event in self.all(query):
            history[event.request_id].append(event)
        return [rows.request_of(r, history[r.id]) for r in found]


class SqlAudit(Queries):
    """Audit entries are append-only and never read back by the transaction that adds
    them (but a read here flushes first): they are written in one statement when it is
    about to commit (`flush`), with its events, not one each as they happen."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._pending: list[dict[str, Any]] = []

    def add(self, entry: AuditEntry) -> None:
        self._pending.append(rows.values(entry))

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        """`add` for several, in order."""
        self._pending.extend(rows.values(entry) for entry in entries)

    def flush(self) -> None:
        """Write the entries added so far, in order (the store does before it commits)."""
        pending, self._pending = self._pending, []
        self.insert_all(audit_entries, pending)

    def of_account(self, account_id: str, limit: int, action: str | None = None
                   ) -> list[AuditEntry]:
        """Newest first; only the entries of `action`, if given."""
        self.flush()
        c = audit_entries.c
        query = (select(audit_entries).where(c.account_id == account_id)
                 .order_by(c.at.desc(), c.seq.desc()).limit(limit))
        if action is not None:
            query = query.where(c.action == action)
        return [rows.audit_of(r) for r in self.all(query)]


class SqlUsage(Queries):
    def save(self, report: Usage) -> None:
        values = rows.values(report)
        self.connection.execute(self.upsert(usage).values(values).on_conflict_do_update(
            index_elements=[usage.c.account_id], set_=values))

    def of_account(self, account_id: str) -> Usage | None:
        row = self.prepared(_USAGE_OF, {"account_id": account_id}).first()
        return None if row is None else rows.usage_of(row)

    def note_threshold(self, account_id: str, period_start: date, threshold: int) -> bool:
        noted = self.upsert(usage_thresholds).values(
            account_id=account_id, period_start=period_start, threshold=threshold)
        return self.inserted(noted)
