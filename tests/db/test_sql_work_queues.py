"""The work queues: due subscriptions, invoices to collect, webhook deliveries and emails.
Workers on PostgreSQL skip the rows another transaction holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from canone.db.database import Database
from canone.services.records import (
    CANCELLED,
    ChangeRequest,
    Event,
    Notification,
    PaymentIntent,
    WebhookEndpoint,
)

from .samples import T0, account, invoice, later, subscription, user


def _subscribers(database: Database, count: int) -> None:
    with database.transaction() as store:
        for n in range(count):
            store.accounts.add(account(n))
            store.subscriptions.add(subscription(n, f"acc_{n}", renews_at=later(n)))


def test_claim_due_takes_due_uncancelled_subscriptions_in_renewal_order(
        database: Database) -> None:
    _subscribers(database, 5)
    with database.transaction() as store:
        store.subscriptions.save(subscription(1, "acc_1", renews_at=later(1), status=CANCELLED))
    with database.transaction() as store:
        assert [s.id for s in store.subscriptions.claim_due(later(3), 10)
                ] == ["sub_0", "sub_2", "sub_3"]
        assert [s.id for s in store.subscriptions.claim_due(later(10), 2)] == ["sub_0", "sub_2"]


def test_claim_due_leaves_out_the_subscriptions_asked_to_skip(database: Database) -> None:
    _subscribers(database, 4)
    with database.transaction() as store:
        assert [s.id for s in store.subscriptions.claim_due(later(10), 2, ["sub_0", "sub_2"])] == [
            "sub_1", "sub_3"]


def test_a_second_worker_skips_the_subscriptions_the_first_holds(
        postgres_database: Database) -> None:
    _subscribers(postgres_database, 6)
    with postgres_database.transaction() as first:
        held = [s.id for s in first.subscriptions.claim_due(later(10), 4)]
        with postgres_database.transaction() as second:
            rest = [s.id for s in second.subscriptions.claim_due(later(10), 4)]
    assert held == ["sub_0", "sub_1", "sub_2", "sub_3"]
    assert rest == ["sub_4", "sub_5"]


def test_invoices_to_collect_are_open_and_due_and_skipped_when_held(
        database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        for n in range(1, 5):
            store.invoices.add(invoice(n, kind="upgrade", next_attempt_at=later(n)))
        store.invoices.save(invoice(2, kind="upgrade", status="paid", next_attempt_at=None))
    with database.transaction() as store:
        due = store.invoices.to_collect(later(3), 10)
        assert [i.id for i in due] == ["inv_1", "inv_3"]
        assert due[0] == invoice(1, kind="upgrade", next_attempt_at=later(1))
    if database.postgres:
        with database.transaction() as first:
            assert [i.id for i in first.invoices.to_collect(later(9), 1)] == ["inv_1"]
            with database.transaction() as second:
                assert [i.id for i in second.invoices.to_collect(later(9), 9)] == ["inv_3",
                                                                                   "inv_4"]


def test_invoices_to_collect_of_one_account_only(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account(1))
        store.accounts.add(account(2))
        for n in range(1, 7):  # the other account's fall due first
            owner = "acc_1" if n > 4 else "acc_2"
            store.invoices.add(invoice(n, owner, kind="upgrade", next_attempt_at=later(n)))
    with database.transaction() as store:
        assert [i.id for i in store.invoices.to_collect(later(9), 1, "acc_1")] == ["inv_5"]
        assert [i.id for i in store.invoices.to_collect(later(9), 9, "acc_1")] == [
            "inv_5", "inv_6"]
        assert len(store.invoices.to_collect(later(9), 9)) == 6


def test_whether_a_renewal_period_was_invoiced(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add(invoice(1))  # a renewal from 31 March
        store.invoices.add(invoice(2, subscription_id="sub_2", kind="upgrade",
                                   period_start=date(2026, 4, 30)))
    with database.transaction() as store:
        assert store.invoices.renewal_invoiced("sub_1", date(2026, 3, 31))
        assert not store.invoices.renewal_invoiced("sub_1", date(2026, 4, 30))
        assert not store.invoices.renewal_invoiced("sub_2", date(2026, 4, 30))  # not a renewal


def _endpoint(n: int, account_id: str | None, *events: str) -> WebhookEndpoint:
    return WebhookEndpoint(f"whe_{n}", account_id, f"https://example.com/{n}", events,
                           "whsec", T0)


def test_an_event_is_queued_for_every_matching_endpoint(database: Database) -> None:
    with database.transaction() as store:
        store.outbox.add_endpoint(_endpoint(1, None, "*"))
        store.outbox.add_endpoint(_endpoint(2, "acc_1", "invoice.paid"))
        store.outbox.add_endpoint(_endpoint(3, "acc_2", "*"))
        store.outbox.add_endpoint(_endpoint(4, "acc_1", "subscription.changed"))
        store.outbox.add_event(Event("evt_1", "invoice.paid", "acc_1", {"total": 4900}, T0))
        store.outbox.add_event(Event("evt_2", "run.finished", None, {}, later(1)))
    with database.transaction() as store:
        deliveries = store.outbox.deliveries(None, 10, None)
        assert sorted((d.event_id, d.endpoint_id) for d in deliveries) == [
            ("evt_1", "whe_1"), ("evt_1", "whe_2"), ("evt_2", "whe_1")]
        mine = store.outbox.deliveries("acc_1", 10, None)
        assert {d.endpoint_id for d in mine} == {"whe_1", "whe_2"}
        first = mine[0]
        assert (first.event_type, first.status, first.attempts, first.next_attempt_at) == (
            "invoice.paid", "pending", 0, T0)
        assert first.payload == {"id": "evt_1", "type": "invoice.paid", "account_id": "acc_1",
                                 "created_at": T0.isoformat(), "data": {"total": 4900}}


def test_due_deliveries_retry_and_are_skipped_when_held(database: Database) -> None:
    with database.transaction() as store:
        store.outbox.add_endpoint(_endpoint(1, None, "*"))
        for n in range(3):
            store.outbox.add_event(Event(f"evt_{n}", "invoice.paid", "acc_1", {}, later(n)))
    with database.transaction() as store:
        due = store.outbox.due_deliveries(later(1), 10)
        assert [d.event_id for d in due] == ["evt_0", "evt_1"]
        store.outbox.save_delivery(replace(due[0], status="delivered", attempts=1,
                                           last_status_code=204))
        store.outbox.save_delivery(replace(due[1], attempts=1, next_attempt_at=later(30),
                                           last_status_code=500, last_error="server error"))
    with database.transaction() as store:
        assert [d.event_id for d in store.outbox.due_deliveries(later(29), 10)] == ["evt_2"]
        assert [d.event_id for d in store.outbox.due_deliveries(later(30), 10)
                ] == ["evt_2", "evt_1"]
    if database.postgres:
        with database.transaction() as first:
            assert [d.event_id for d in first.outbox.due_deliveries(later(30), 1)] == ["evt_2"]
            with database.transaction() as second:
                assert [d.event_id for d in second.outbox.due_deliveries(later(30), 9)] == ["evt_1"]


def test_due_notifications_are_skipped_when_held(postgres_database: Database) -> None:
    with postgres_database.transaction() as store:
        for n in range(3):
            store.outbox.add_notification(Notification(f"ntf_{n}", None, "a@example.com", "k", "en",
                                                       {}, later(n)))
    with postgres_database.transaction() as first:
        assert [i.id for i in first.outbox.due_notifications(later(5), 2)] == ["ntf_0", "ntf_1"]
        with postgres_database.transaction() as second:
            assert [i.id for i in second.outbox.due_notifications(later(5), 9)] == ["ntf_2"]


def test_invoice_and_delivery_pages_follow_the_cursor(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        for n in range(1, 6):
            store.invoices.add(invoice(n, kind="upgrade", issued_at=later(n % 3)))
    with database.transaction() as store:
        pages, after = [], None
        while batch := store.invoices.of_account("acc_1", 2, after):
            pages.append([i.id for i in batch])
            after = batch[-1].id
    # issued at minutes 1, 2, 0, 1, 2: newest first, ties by id descending
    assert pages == [["inv_5", "inv_2"], ["inv_4", "inv_1"], ["inv_3"]]


def test_find_accounts_by_name_id_or_user_email_a_page_at_a_time(database: Database) -> None:
    with database.transaction() as store:
        for n in range(1, 6):
            store.accounts.add(account(n, name=f"Shop {n}" if n % 2 else f"Studio_{n}"))
        store.people.add_user(user(1, "acc_4", email="Mario@Verdi.example"))
    with database.transaction() as store:
        def ids(text: str | None, limit: int = 10, after: str | None = None) -> list[str]:
            return [a.id for a in store.accounts.find(text, limit, after)]

        assert ids(None) == ["acc_1", "acc_2", "acc_3", "acc_4", "acc_5"]
        assert ids("shop") == ["acc_1", "acc_3", "acc_5"]
        assert ids("SHOP", 2) == ["acc_1", "acc_3"]
        assert ids("shop", 2, "acc_3") == ["acc_5"]
        assert ids("verdi.EXAMPLE") == ["acc_4"]
        assert ids("acc_2") == ["acc_2"]
        assert ids("o_") == ["acc_2", "acc_4"]  # "_" is a character, not a wildcard
        assert ids("%") == []


def test_pending_intents(database: Database) -> None:
    def intent(key: str, at: datetime, status: str = "pending") -> PaymentIntent:
        return PaymentIntent(key, "acc_1", "change", 100, "EUR", "tok", {}, status, at)

    with database.transaction() as store:
        store.payments.add_intent(intent("k1", T0))
        store.payments.add_intent(intent("k2", later(1)))
        store.payments.add_intent(intent("k3", later(2), "succeeded"))
    with database.transaction() as store:
        assert [i.key for i in store.payments.pending_intents(later(1), 10)] == ["k1"]
        assert [i.key for i in store.payments.pending_intents(later(5), 10)] == ["k1", "k2"]
        assert store.payments.pending_intent_of("acc_1") == intent("k2", later(1))
        assert store.payments.pending_intent_of("acc_2") is None


def test_request_queue_oldest_first_by_status(database: Database) -> None:
    def request(n: int, status: str) -> ChangeRequest:
        return ChangeRequest(f"req_{n}", "acc_1", "a@example.com", None, "", "", status,
                             "email", False, None, later(n), later(n))

    with database.transaction() as store:
        store.accounts.add(account())
        for n, status in enumerate(["open", "completed", "open", "open"]):
            store.requests.add(request(n, status))
    with database.transaction() as store:
        assert [r.id for r in store.requests.queue(None, 10, None)] == [
            "req_0", "req_1", "req_2", "req_3"]
        assert [r.id for r in store.requests.queue("open", 2, None)] == ["req_0", "req_2"]
        assert [r.id for r in store.requests.queue("open", 2, "req_2")] == ["req_3"]
        assert [r.id for r in store.requests.of_account("acc_1")] == ["req_3", "req_2", "req_1",
                                                                      "req_0"]


def test_held_rows_do_not_block_a_reader(postgres_database: Database) -> None:
    _subscribers(postgres_database, 1)
    with postgres_database.transaction() as first:
        first.subscriptions.of_account("acc_0", lock=True)
        with postgres_database.read() as reader:
            assert reader.subscriptions.of_account("acc_0") is not None
