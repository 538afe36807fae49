"""The outer parts of `SqlStore`: events and their webhook deliveries, the email outbox,
API keys, web sessions, idempotency records and the test clock."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from canone.db import rows
from canone.db.queries import Prepared, Queries, page
from canone.db.tables import (
    accounts,
    api_keys,
    clock_override,
    events,
    idempotency_records,
    outbox,
    staff,
    users,
    web_sessions,
    webhook_deliveries,
    webhook_endpoints,
)
from canone.services.records import (
    ApiKey,
    Event,
    IdempotencyRecord,
    SessionOwner,
    Staff,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebSession,
)
from canone.services.store import Notification, OutboxItem

_ALL_ENDPOINTS = Prepared(select(webhook_endpoints).order_by(webhook_endpoints.c.created_at,
                                                              webhook_endpoints.c.id))
_FINISH_IDEMPOTENCY = (update(idempotency_records)
                       .where(idempotency_records.c.scope == bindparam("the_scope"),
                              idempotency_records.c.key == bindparam("the_key"))
                       .values(status_code=bindparam("status_code"), body=bindparam("body")))
_principal = web_sessions.c.principal
# Built once: the session, its user and the user's account, or its staff member.
_SESSION_OWNER = (
    select(web_sessions,
           *(c.label(f"u_{c.name}") for c in users.c),
           *(c.label(f"a_{c.name}") for c in accounts.c),
           *(c.label(f"s_{c.name}") for c in staff.c))
    .select_from(
        web_sessions
        .outerjoin(users, (users.c.id == func.substr(_principal, len("user:") + 1))
                   & _principal.like("user:%"))
        .outerjoin(accounts, accounts.c.id == users.c.account_id)
        .outerjoin(staff, (staff.c.id == func.substr(_principal, len("staff:") + 1))
                   & _principal.like("staff:%")))
    .where(web_sessions.c.token_hash == bindparam("token_hash")))


class EdgeQueries(Queries):
    _endpoints: list[WebhookEndpoint] | None = None  # read once per transaction

    # -- events and webhooks ---------------------------------------------------------

    def add_event(self, event: Event) -> None:
        """Store the event and queue a delivery (payload: the event as JSON, see
        `rows.event_payload`) for every endpoint of its account or of all accounts that
        subscribes to its type or to "*"."""
        self.insert_new(events, rows.values(event), f"event {event.id}")
        self.insert_all(webhook_deliveries, self._deliveries(event))

    def add_events(self, added: Sequence[Event]) -> None:
        """`add_event` for several events, in order, one statement per table."""
        self.insert_all(events, [rows.values(event) for event in added])
        self.insert_all(webhook_deliveries,
                        [delivery for event in added for delivery in self._deliveries(event)])

    def _deliveries(self, event: Event) -> list[dict[str, Any]]:
        if self._endpoints is None:
            self._endpoints = self.webhook_endpoints(None)
        if not self._endpoints:
            return []
        payload = rows.event_payload(event)
        return [
            {"id": f"whd_{secrets.token_hex(12)}", "endpoint_id": endpoint.id,
             "event_id": event.id, "account_id": event.account_id, "event_type": event.type,
             "payload": payload, "status": "pending", "attempts": 0,
             "next_attempt_at": event.created_at, "last_status_code": None,
             "last_error": None, "created_at": event.created_at}
            for endpoint in self._endpoints
            if endpoint.account_id in (None, event.account_id)
            and (event.type in endpoint.events or "*" in endpoint.events)]

    def events_of(self, account_id: str | None, limit: int) -> list[Event]:
        """Newest first; every account's when `account_id` is None."""
        query = select(events).order_by(events.c.seq.desc()).limit(limit)
        if account_id is not None:
            query = query.where(events.c.account_id == account_id)
        return [rows.event_of(r) for r in self.all(query)]

    def add_webhook_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.insert_new(webhook_endpoints, rows.endpoint_values(endpoint),
                        f"webhook endpoint {endpoint.id}")
        self._endpoints = None

    def webhook_endpoints(self, account_id: str | None) -> list[WebhookEndpoint]:
        """The account's own endpoints; all endpoints when `account_id` is None."""
        if account_id is None:  # read by every transaction that adds events: built once
            return [rows.endpoint_of(r) for r in self.prepared(_ALL_ENDPOINTS, {})]
        c = webhook_endpoints.c
        query = (select(webhook_endpoints).where(c.account_id == account_id)
                 .order_by(c.created_at, c.id))
        return [rows.endpoint_of(r) for r in self.all(query)]

    def webhook_deliveries(self, account_id: str | None, limit: int, after: str | None
                           ) -> list[WebhookDelivery]:
        """Newest first; every account's when `account_id` is None."""
        c = webhook_deliveries.c
        past, by = page(webhook_deliveries, c.created_at, after, newest_first=True)
        query = select(webhook_deliveries).where(past)
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        return [rows.delivery_of(r) for r in self.all(query.order_by(*by).limit(limit))]

    def due_deliveries(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        c = webhook_deliveries.c
        query = (select(webhook_deliveries).where(c.status == "pending", c.next_attempt_at <= now)
                 .order_by(c.next_attempt_at, c.id).limit(limit))
        return [rows.delivery_of(r) for r in self.all(self.claimed(query))]

    def save_delivery(self, delivery: WebhookDelivery) -> None:
        changes = {"status": delivery.status, "attempts": delivery.attempts,
                   "next_attempt_at": delivery.next_attempt_at,
                   "last_status_code": delivery.last_status_code,
                   "last_error": delivery.last_error}
        self.update(webhook_deliveries, webhook_deliveries.c.id == delivery.id, changes,
                    f"webhook delivery {delivery.id}")

    # -- the email outbox ------------------------------------------------------------

    def add_notification(self, notification: Notification) -> None:
        """Queue an email: an outbox item with channel "email", due at once, whose payload
        is {"to", "kind", "locale", "data", "account_id"} of the notification."""
        self.insert_new(outbox, rows.notification_values(notification),
                        f"notification {notification.id}")

    def add_notifications(self, added: Sequence[Notification]) -> None:
        """`add_notification` for several, in one statement."""
        self.insert_all(outbox, [rows.notification_values(n) for n in added])

    def due_notifications(self, now: datetime, limit: int) -> list[OutboxItem]:
        c = outbox.c
        query = (select(outbox).where(c.channel == "email", c.status == "pending",
                                      c.next_attempt_at <= now)
                 .order_by(c.next_attempt_at, c.seq).limit(limit))
        return [rows.outbox_item_of(r) for r in self.all(self.claimed(query))]

    def save_outbox_item(self, item: OutboxItem) -> None:
        changes = {"attempts": item.attempts, "next_attempt_at": item.next_attempt_at,
                   "status": item.status, "last_error": item.last_error}
        self.update(outbox, outbox.c.id == item.id, changes, f"outbox item {item.id}")

    # -- API keys and web sessions ---------------------------------------------------

    def add_api_key(self, key: ApiKey) -> None:
        self.insert_new(api_keys, rows.values(key), f"API key {key.id}")

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = self.first(select(api_keys).where(api_keys.c.key_hash == key_hash))
        return None if row is None else rows.api_key_of(row)

    def list_api_keys(self) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        return [rows.api_key_of(r) for r in self.all(query)]

    def save_api_key(self, key: ApiKey) -> None:
        self.update(api_keys, api_keys.c.id == key.id, rows.values(key), f"API key {key.id}")

    def add_session(self, session: WebSession) -> None:
        self.insert_new(web_sessions, rows.values(session), "the session")

    def session_by_hash(self, token_hash: str) -> WebSession | None:
        row = self.first(select(web_sessions).where(web_sessions.c.token_hash == token_hash))
        return None if row is None else rows.session_of(row)

    def session_owner(self, token_hash: str) -> SessionOwner | None:
        """One query: the session LEFT JOINed with the user its principal names ("user:<id>",
        matched by primary key on the id after the prefix) and that user's account, or with
        the staff member ("staff:<id>")."""
        row = self.connection.execute(_SESSION_OWNER, {"token_hash": token_hash}).first()
        if row is None:
            return None
        m = row._mapping
        session = WebSession(**{f: m[f] for f in WebSession.__dataclass_fields__})
        user = account = member = None
        if m["u_id"] is not None:
            user = User(**{f: m[f"u_{f}"] for f in User.__dataclass_fields__})
        if m["a_id"] is not None:
            account = rows.account_from({c.name: m[f"a_{c.name}"] for c in accounts.c})
        if m["s_id"] is not None:
            member = Staff(**{f: m[f"s_{f}"] for f in Staff.__dataclass_fields__})
        return SessionOwner(session, user, account, member)

    def delete_session(self, token_hash: str) -> None:
        self.connection.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))

    # -- idempotency records ---------------------------------------------------------

    def get_idempotency(self, scope: str, key: str, lock: bool = False
                        ) -> IdempotencyRecord | None:
        c = idempotency_records.c
        query = select(idempotency_records).where(c.scope == scope, c.key == key)
        row = self.first(self.locked(query, lock))
        return None if row is None else rows.idempotency_of(row)

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        self.insert_new(idempotency_records, rows.values(record),
                        f"idempotency key {record.key!r}")

    def finish_idempotency(self, record: IdempotencyRecord) -> None:
        done = self.connection.execute(_FINISH_IDEMPOTENCY, {
            "the_scope": record.scope, "the_key": record.key,
            "status_code": record.status_code, "body": record.body})
        if done.rowcount != 1:
            raise LookupError(f"idempotency key {record.key!r} does not exist")

    def drop_idempotency(self, scope: str, key: str) -> None:
        c = idempotency_records.c
        self.connection.execute(delete(idempotency_records).where(c.scope == scope,
                                                                  c.key == key))

    def renew_idempotency(self, scope: str, key: str, at: datetime) -> None:
        c = idempotency_records.c
        self.connection.execute(update(idempotency_records).where(
            c.scope == scope, c.key == key, c.status_code == 0).values(created_at=at))

    def purge_idempotency(self, before: datetime) -> int:
        purge = delete(idempotency_records).where(idempotency_records.c.created_at < before)
        return int(self.connection.execute(purge).rowcount)

    # -- the test clock --------------------------------------------------------------

    def clock_override(self) -> datetime | None:
        now: datetime | None = self.connection.execute(select(clock_override.c.now)).scalar()
        return now

    def set_clock_override(self, now: datetime) -> None:
        self.connection.execute(self.upsert(clock_override).values(id=1, now=now)
                                .on_conflict_do_update(index_elements=[clock_override.c.id],
                                                       set_={"now": now}))
