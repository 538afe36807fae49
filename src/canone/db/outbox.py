"""Events with their webhook deliveries, and the email outbox, on the transaction's
connection."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from canone.db import rows
from canone.db.queries import Prepared, Queries, page
from canone.db.tables import events, outbox, webhook_deliveries, webhook_endpoints
from canone.services.records import (
    Event,
    Notification,
    OutboxItem,
    WebhookDelivery,
    WebhookEndpoint,
)

_ALL_ENDPOINTS = Prepared(select(webhook_endpoints).order_by(webhook_endpoints.c.created_at,
                                                              webhook_endpoints.c.id))


class SqlOutbox(Queries):
    """Events, like audit entries (`SqlAudit`), are written when the transaction is about
    to commit (`flush`): one statement per table for all its events and their deliveries.
    A read of events or deliveries in the transaction flushes first."""

    _endpoints: list[WebhookEndpoint] | None = None  # read once per transaction

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._events: list[dict[str, Any]] = []
        self._deliveries_due: list[dict[str, Any]] = []

    def add_event(self, event: Event) -> None:
        """Store the event and queue a delivery (payload: the event as JSON, see
        `rows.event_payload`) for every endpoint of its account or of all accounts that
        subscribes to its type or to "*"."""
        self.add_events([event])

    def add_events(self, added: Sequence[Event]) -> None:
        """`add_event` for several events, in order."""
        self._events.extend(rows.values(event) for event in added)
        self._deliveries_due.extend(
            delivery for event in added for delivery in self._deliveries(event))

    def flush(self) -> None:
        """Write the events added so far and their deliveries, in order."""
        added, self._events = self._events, []
        deliveries, self._deliveries_due = self._deliveries_due, []
        self.insert_all(events, added)
        self.insert_all(webhook_deliveries, deliveries)

    def events_of(self, account_id: str | None, limit: int) -> list[Event]:
        """Newest first; every account's when `account_id` is None."""
        self.flush()
        query = select(events).order_by(events.c.seq.desc()).limit(limit)
        if account_id is not None:
            query = query.where(events.c.account_id == account_id)
        return [rows.event_of(r) for r in self.all(query)]

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

    def save_item(self, item: OutboxItem) -> None:
        changes = {"attempts": item.attempts, "next_attempt_at": item.next_attempt_at,
                   "status": item.status, "last_error": item.last_error}
        self.update(outbox, outbox.c.id == item.id, changes, f"outbox item {item.id}")

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.insert_new(webhook_endpoints, rows.endpoint_values(endpoint),
                        f"webhook endpoint {endpoint.id}")
        self._endpoints = None

    def endpoints(self, account_id: str | None) -> list[WebhookEndpoint]:
        """The account's own endpoints; all endpoints when `account_id` is None."""
        if account_id is None:  # read by every transaction that adds events: built once
            return [rows.endpoint_of(r) for r in self.prepared(_ALL_ENDPOINTS, {})]
        c = webhook_endpoints.c
        query = (select(webhook_endpoints).where(c.account_id == account_id)
                 .order_by(c.created_at, c.id))
        return [rows.endpoint_of(r) for r in self.all(query)]

    def deliveries(self, account_id: str | None, limit: int, after: str | None
                   ) -> list[WebhookDelivery]:
        """Newest first; every account's when `account_id` is None."""
        self.flush()
        c = webhook_deliveries.c
        past, by = page(webhook_deliveries, c.created_at, after, newest_first=True)
        query = select(webhook_deliveries).where(past)
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        return [rows.delivery_of(r) for r in self.all(query.order_by(*by).limit(limit))]

    def due_deliveries(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        self.flush()
        c = webhook_deliveries.c
        query = (select(webhook_deliveries).where(c.status == "pending", c.next_attempt_at <= now)
                 .order_by(c.next_attempt_at, c.id).limit(limit))
        return [rows.delivery_of(r) for r in self.all(self.claimed(query))]

    def save_delivery(self, delivery: WebhookDelivery) -> None:
        self.flush()
        changes = {"status": delivery.status, "attempts": delivery.attempts,
                   "next_attempt_at": delivery.next_attempt_at,
                   "last_status_code": delivery.last_status_code,
                   "last_error": delivery.last_error}
        self.update(webhook_deliveries, webhook_deliveries.c.id == delivery.id, changes,
                    f"webhook delivery {delivery.id}")


    def _deliveries(self, event: Event) -> list[dict[str, Any]]:
        if self._endpoints is None:
            self._endpoints = self.endpoints(None)
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
