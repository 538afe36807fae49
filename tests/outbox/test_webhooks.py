"""Webhook deliveries from the outbox to a real HTTP receiver on localhost that checks the
Standard Webhooks signatures, goes down, comes back, and deduplicates by webhook-id."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from canone.db.database import Database
from canone.integrations.outbox import LEASE, deliver_webhooks
from canone.integrations.webhooks import LONGEST_RETRY, HttpWebhookSender, new_secret
from canone.services import requests, usage
from canone.services.access import STAFF, Actor
from canone.services.context import new_id
from canone.services.records import WebhookEndpoint
from clocks import TestClock
from integrations.http_receiver import WebhookReceiver
from integrations.smtp_server import free_port

from .support import delivery_rows, sign_up

SUPPORT = Actor(STAFF, "staff:sam@canone.example")


@pytest.fixture
def sender() -> Iterator[HttpWebhookSender]:
    # The receivers listen on localhost, which only an operator's setting allows.
    with HttpWebhookSender(timeout=5, allow_private=True) as http:
        yield http


def register(database: Database, clock: TestClock, url: str, secret: str,
             account_id: str | None = None, events: tuple[str, ...] = ("*",)) -> str:
    endpoint_id = new_id("whe")
    with database.transaction() as store:
        store.outbox.add_endpoint(WebhookEndpoint(endpoint_id, account_id, url, events, secret,
                                                   clock.now()))
    return endpoint_id


def event_ids(database: Database, account_id: str | None = None) -> set[str]:
    with database.transaction() as store:
        return {event.id for event in store.outbox.events_of(account_id, 1000)}


def pending(database: Database) -> list[dict]:
    return [row for row in delivery_rows(database) if row["status"] == "pending"]


def drain(database: Database, sender: HttpWebhookSender, clock: TestClock) -> None:
    """Run passes, moving the clock to the next due delivery, until nothing is pending."""
    for _ in range(20):
        deliver_webhooks(database, sender, clock.now())
        waiting = pending(database)
        if not waiting:
            return
        clock.instant = max(clock.instant, min(row["next_attempt_at"] for row in waiting))
    raise AssertionError(f"still pending: {pending(database)}")


def test_a_receiver_that_is_down_for_a_while_misses_nothing(database, svc, clock, sender):
    secret = new_secret()
    port = free_port()
    register(database, clock, f"http://127.0.0.1:{port}/hooks/canone", secret)
    account = sign_up(svc).account  # subscription.created, invoice.issued, invoice.paid

    # Down: nothing listens on the port. Every delivery fails and is rescheduled.
    report = deliver_webhooks(database, sender, clock.now())
    assert (report.done, report.retried) == (0, 3)
    rows = delivery_rows(database)
    assert {(r["status"], r["attempts"]) for r in rows} == {("pending", 1)}
    assert all("could not connect" in r["last_error"] for r in rows)
    assert {r["next_attempt_at"] for r in rows} == {clock.now() + timedelta(seconds=30)}

    clock.advance(seconds=30)
    deliver_webhooks(database, sender, clock.now())
    assert {(r["attempts"], r["next_attempt_at"]) for r in delivery_rows(database)} == {
        (2, clock.now() + timedelta(minutes=1))}

    # More changes while it is down.
    usage.report(svc, SUPPORT, account.id, 800, 1)  # usage.threshold_reached (75 %)
    request = requests.create(svc, SUPPORT, account.id, None, "", "Call me")
    requests.transition(svc, SUPPORT, request.id, "in_progress")
    deliver_webhooks(database, sender, clock.now())

    with WebhookReceiver(secret, port=port) as receiver:
        # Back, but answering 503 at first: those deliveries arrive and are retried too.
        receiver.status = 503
        clock.advance(minutes=1)
        deliver_webhooks(database, sender, clock.now())
        assert receiver.genuine and all(r["last_status_code"] in (None, 503)
                                        for r in delivery_rows(database))

        receiver.status = 204
        drain(database, sender, clock)

    assert {r["status"] for r in delivery_rows(database)} == {"delivered"}
    assert all(d.error is None for d in receiver.deliveries)  # every signature checks out
    seen = [d.headers["webhook-id"] for d in receiver.genuine]
    assert len(seen) > len(set(seen))  # the 503 answers caused redeliveries ...
    assert set(seen) == event_ids(database)  # ... deduplicated by id, every event once
    assert len(set(seen)) == 6


def test_the_payload_is_the_event_signed_with_its_id(database, svc, clock, sender):
    secret = new_secret()
    with WebhookReceiver(secret) as receiver:
        register(database, clock, receiver.url, secret, events=("invoice.paid",))
        signed = sign_up(svc)
        report = deliver_webhooks(database, sender, clock.now())

    assert (report.done, report.retried) == (1, 0)
    [delivery] = receiver.genuine
    body = json.loads(delivery.body)
    assert body["id"] == delivery.headers["webhook-id"]
    assert body["type"] == "invoice.paid"
    assert body["account_id"] == signed.account.id
    assert body["created_at"] == "2026-04-01T09:00:00+00:00"
    assert body["data"] == {"invoice_id": signed.invoice.id, "number": "2026-000001",
                            "total": 4900, "amount_paid": 4900, "currency": "USD",
                            "status": "paid"}
    assert delivery.headers["content-type"] == "application/json"
    assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 60  # wall clock
    [row] = delivery_rows(database)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 204)


def test_an_account_endpoint_receives_only_its_accounts_events(database, svc, clock, sender):
    secret = new_secret()
    with WebhookReceiver(secret) as receiver:
        ada = sign_up(svc).account
        register(database, clock, receiver.url, secret, account_id=ada.id)
        clock.advance(minutes=1)
        bea = sign_up(svc, email="bea@example.com", name="Bea's Shop").account
        requests.create(svc, SUPPORT, ada.id, None, "", "Hello from Ada")
        requests.create(svc, SUPPORT, bea.id, None, "", "Hello from Bea")
        deliver_webhooks(database, sender, clock.now())

    bodies = [json.loads(d.body) for d in receiver.genuine]
    assert [b["type"] for b in bodies] == ["request.created"]
    assert {b["account_id"] for b in bodies} == {ada.id}
    assert bea.id not in {row["account_id"] for row in delivery_rows(database)}


def test_a_slow_receiver_holds_no_lock_and_no_delivery_is_claimed_twice(
        database, svc, clock, sender):
    secret = new_secret()
    with WebhookReceiver(secret) as receiver:
        register(database, clock, receiver.url, secret, events=("subscription.created",))
        sign_up(svc)
        receiver.hold.clear()  # the receiver takes its time to answer
        first = threading.Thread(target=deliver_webhooks, args=(database, sender, clock.now()))
        first.start()
        try:
            for _ in range(500):
                if receiver.deliveries:
                    break
                time.sleep(0.01)
            assert len(receiver.deliveries) == 1
            # Meanwhile: another worker finds nothing to do, and others write freely.
            assert deliver_webhooks(database, sender, clock.now()).claimed == 0
            started = time.monotonic()
            sign_up(svc, email="bea@example.com")
            assert time.monotonic() - started < 5
            [leased] = [r for r in pending(database) if r["attempts"] == 1]
            assert leased["next_attempt_at"] == clock.now() + LEASE  # until the answer
        finally:
            receiver.hold.set()
            first.join(timeout=30)
        deliver_webhooks(database, sender, clock.now())  # Bea's

    assert len(receiver.genuine) == 2
    assert {r["status"] for r in delivery_rows(database)} == {"delivered"}


def test_a_delivery_that_keeps_failing_is_retried_every_six_hours_for_good(
        database, svc, clock, sender):
    register(database, clock, f"http://127.0.0.1:{free_port()}/gone", new_secret(),
             events=("subscription.created",))
    sign_up(svc)
    delays = []
    for _ in range(15):
        deliver_webhooks(database, sender, clock.now())
        [row] = delivery_rows(database)
        delays.append(row["next_attempt_at"] - clock.now())
        clock.instant = row["next_attempt_at"]

    assert delays[:4] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2),
                          timedelta(minutes=4)]
    assert delays[-4:] == [LONGEST_RETRY] * 4
    assert (row["status"], row["attempts"]) == ("pending", 15)


def test_a_delivery_to_a_private_address_is_recorded_as_failed_and_not_sent(database, svc,
                                                                            clock):
    """An endpoint stored with a private address (registered while the operator allowed
    them, or a name re-pointed since) gets nothing once the setting is off."""
    secret = new_secret()
    with WebhookReceiver(secret) as receiver, HttpWebhookSender(timeout=5) as public_only:
        register(database, clock, receiver.url.replace("127.0.0.1", "localhost"), secret,
                 events=("invoice.paid",))
        sign_up(svc)
        report = deliver_webhooks(database, public_only, clock.now())

    assert receiver.deliveries == []
    assert (report.done, report.retried) == (0, 1)
    [row] = delivery_rows(database)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, None)
    assert row["last_error"] == ("not sent: localhost resolves to 127.0.0.1, a loopback "
                                 "address (webhooks go to public addresses only)")
