"""Every record comes back from the store exactly as it went in, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from canone.db.database import Database
from canone.services.payment_methods import is_sepa
from canone.services.ports import StoredCard
from canone.services.records import (
    ApiKey,
    AuditEntry,
    ChangeRequest,
    Event,
    IdempotencyRecord,
    LedgerEntry,
    Notification,
    OutboxItem,
    Payment,
    PaymentIntent,
    RequestEvent,
    Staff,
    Usage,
    WebhookEndpoint,
    WebSession,
)

from .samples import BIG, CONFIG, T0, account, invoice, later, subscription, user


def test_account_with_card_round_trips_and_saves(database: Database) -> None:
    card_less = account(2, card=None, auto_upgrade=False)
    with database.transaction() as store:
        store.accounts.add(account())
        store.accounts.add(card_less)
    with database.transaction() as store:
        assert store.accounts.get("acc_1") == account()
        assert store.accounts.get("acc_2", lock=True) == card_less
        assert store.accounts.get("acc_404") is None
        store.accounts.save(account(name="Rossi Srl", status="past_due", card=None))
    with database.transaction() as store:
        assert store.accounts.get("acc_1") == account(name="Rossi Srl", status="past_due",
                                                      card=None)


def test_a_bank_account_comes_back_a_bank_account_with_its_country(database: Database) -> None:
    iban = StoredCard("pm_sepa", "sepa_debit", "3000", 0, 0, "DE", "sepa_debit")
    card = StoredCard("pm_card", "visa", "4242", 12, 2031, "IT", "card")
    with database.transaction() as store:
        store.accounts.add(account(card=iban))
        store.accounts.add(account(2, card=card))
    with database.transaction() as store:
        found = store.accounts.get("acc_1")
        assert found is not None and found.card == iban and is_sepa(found.card)
        assert store.accounts.by_ids(["acc_2"])["acc_2"].card == card
        store.accounts.save(account(card=card))
    with database.read() as store:
        again = store.accounts.get("acc_1")
    assert again is not None and again.card == card and not is_sepa(again.card)


def test_datetimes_come_back_aware_in_utc(database: Database) -> None:
    rome = datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Europe/Rome"))
    with database.transaction() as store:
        store.accounts.add(account(created_at=rome))
    with database.transaction() as store:
        created = store.accounts.get("acc_1").created_at  # type: ignore[union-attr]
    assert created == rome
    assert created.utcoffset() == timedelta(0)
    assert created == datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc)  # noqa: UP017


def test_users_and_staff_round_trip(database: Database) -> None:
    member = Staff("stf_1", "Support@Canone.example", "Sara", "hash")
    with database.transaction() as store:
        store.accounts.add(account())
        store.people.add_user(user(2, email="zeno@example.com"))
        store.people.add_user(user(1))
        store.people.add_staff(member)
    with database.transaction() as store:
        assert store.people.get_user("usr_1") == user(1)
        assert store.people.user_by_email("anna.1@EXAMPLE.com") == user(1)
        assert store.people.users_of("acc_1") == [user(1), user(2, email="zeno@example.com")]
        assert store.people.get_staff("stf_1") == member
        assert store.people.staff_by_email("support@canone.example") == member
        assert store.people.staff_by_email("nobody@canone.example") is None
        store.people.save_user(user(1, role="admin", billing=False, active=False))
    with database.transaction() as store:
        assert store.people.get_user("usr_1") == user(1, role="admin", billing=False, active=False)


def test_subscription_with_configurations_round_trips(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.subscriptions.add(subscription())
    with database.transaction() as store:
        assert store.subscriptions.of_account("acc_1") == subscription()
        changed = subscription(config=CONFIG.with_(contacts=None, addons=()), pending=None,
                               version=8, cancel_at_period_end=True)
        store.subscriptions.save(changed)
    with database.transaction() as store:
        assert store.subscriptions.of_account("acc_1", lock=True) == changed
        assert store.subscriptions.of_account("acc_2") is None


def test_invoice_with_lines_and_big_amounts_round_trips(database: Database) -> None:
    signup = invoice(2, number="2026-000002", kind="signup", period_start=None,
                     period_end=None, lines=(), total=0, next_attempt_at=None, status="paid")
    with database.transaction() as store:
        store.accounts.add(account())
        store.invoices.add(invoice())
        store.invoices.add(signup)
    with database.transaction() as store:
        assert store.invoices.get("inv_1") == invoice()
        assert store.invoices.get("inv_2") == signup
        paid = invoice(status="paid", amount_paid=BIG - 1_734, attempts=3, next_attempt_at=None)
        store.invoices.save(paid)
    with database.transaction() as store:
        assert store.invoices.get("inv_1") == paid
        assert store.invoices.get("inv_1").amount_due == 0  # type: ignore[union-attr]


def test_payments_intents_and_ledger_round_trip(database: Database) -> None:
    paid = Payment("pay_1", "acc_1", "inv_1", BIG, "EUR", "succeeded", "ch_1", "key-1", "", T0)
    failed = Payment("pay_2", "acc_1", None, 100, "EUR", "failed", None, "key-2", "declined",
                     later(1))
    intent = PaymentIntent("key-1", None, "signup", 4_900, "EUR", "card_tok",
                           {"config": {"seats": 3}, "note": "è"}, "pending", T0,
                           password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
    with database.transaction() as store:
        store.accounts.add(account())
        store.payments.add(failed)
        store.payments.add(paid)
        store.payments.add_intent(intent)
        store.ledger.add(LedgerEntry("led_2", "acc_1", 10_000, "EUR", "credit", None, T0))
        store.ledger.add(LedgerEntry("led_1", "acc_1", -2_500, "EUR", "used", "inv_1",
                                           T0))
    with database.transaction() as store:
        assert store.payments.of_account("acc_1") == [paid, failed]
        assert store.payments.get_intent("key-1", lock=True) == intent
        done = intent.but(account_id="acc_1", status="succeeded", result={"invoice": "inv_1"})
        store.payments.save_intent(done)
        assert [e.id for e in store.ledger.of_account("acc_1")] == ["led_2", "led_1"]
        assert store.ledger.of_account("acc_1")[1] == LedgerEntry("led_1", "acc_1", -2_500, "EUR",
                                                                  "used", "inv_1", T0)
        assert store.ledger.balance_of("acc_1") == 7_500
        assert store.ledger.balance_of("acc_2") == 0
    with database.transaction() as store:
        assert store.payments.get_intent("key-1") == done


def test_change_request_history_is_appended(database: Database) -> None:
    opened = RequestEvent(T0, "user:usr_1", None, "open", "please reduce")
    request = ChangeRequest("req_1", "acc_1", "anna@example.com", CONFIG, "too many seats",
                            "hello", "open", "portal", True, None, T0, T0, (opened,))
    with database.transaction() as store:
        store.accounts.add(account())
        store.requests.add(request)
    moved = RequestEvent(later(5), "staff:stf_1", "open", "completed", "done")
    done = request.but(status="completed", effective="now", desired=None, updated_at=later(5),
                       history=(opened, moved))
    with database.transaction() as store:
        assert store.requests.get("req_1", lock=True) == request
        store.requests.save(done)
    with database.transaction() as store:
        assert store.requests.get("req_1") == done
        assert store.requests.of_account("acc_1") == [done]


def test_audit_usage_and_thresholds(database: Database) -> None:
    first = AuditEntry("aud_1", "acc_1", "user:usr_1", "subscription.changed",
                       {"seats": 3, "price": "49.00"}, None, T0)
    second = AuditEntry("aud_2", "acc_1", "staff:stf_1", "request.applied", None,
                        {"nested": {"list": [1, 2.5, None, True]}}, T0)
    with database.transaction() as store:
        store.audit.add(first)
        store.audit.add(second)
        store.usage.save(Usage("acc_1", 2_400, 3, T0))
        store.usage.save(Usage("acc_1", 2_450, 4, later(1)))
        assert store.usage.note_threshold("acc_1", date(2026, 3, 1), 90)
        assert not store.usage.note_threshold("acc_1", date(2026, 3, 1), 90)
        assert store.usage.note_threshold("acc_1", date(2026, 4, 1), 90)
    with database.transaction() as store:
        assert store.audit.of_account("acc_1", 10) == [second, first]
        assert store.audit.of_account("acc_1", 1) == [second]
        assert store.audit.of_account("acc_1", 10, action="subscription.changed") == [first]
        assert store.audit.of_account("acc_1", 10, action="renewal.blocked") == []
        assert store.usage.of_account("acc_1") == Usage("acc_1", 2_450, 4, later(1))
        assert store.usage.of_account("acc_2") is None
        assert not store.usage.note_threshold("acc_1", date(2026, 4, 1), 90)


def test_events_and_notifications(database: Database) -> None:
    event = Event("evt_1", "subscription.changed", "acc_1", {"seats": [3, 5]}, T0)
    operator = Event("evt_2", "billing.run", None, {}, later(1))
    note = Notification("ntf_1", "acc_1", "anna@example.com", "purchase_confirmation", "it",
                        {"invoice": "inv_1", "total": "49.00"}, T0)
    with database.transaction() as store:
        store.outbox.add_event(event)
        store.outbox.add_event(operator)
        store.outbox.add_notification(note)
    with database.transaction() as store:
        assert store.outbox.events_of("acc_1", 10) == [event]
        assert store.outbox.events_of(None, 10) == [operator, event]
        [item] = store.outbox.due_notifications(later(1), 10)
        assert item == OutboxItem(
            "ntf_1", "email",
            {"to": "anna@example.com", "kind": "purchase_confirmation", "locale": "it",
             "data": {"invoice": "inv_1", "total": "49.00"}, "account_id": "acc_1"},
            0, T0, "pending", None)
        store.outbox.save_item(replace(item, attempts=1, next_attempt_at=later(10),
                                       last_error="421 try later"))
    with database.transaction() as store:
        assert store.outbox.due_notifications(later(9), 10) == []
        [retry] = store.outbox.due_notifications(later(10), 10)
        assert (retry.attempts, retry.last_error) == (1, "421 try later")


def test_api_keys_sessions_and_idempotency(database: Database) -> None:
    key = ApiKey("key_1", "CI", None, "sha256:abc", T0, False)
    session = WebSession("tokhash", "user:usr_1", "csrf-token", later(60))
    record = IdempotencyRecord("key_1", "idem-1", "POST /v1/x 1a2b", 201, b"\x00{\"ok\":1}",
                               T0)
    with database.transaction() as store:
        store.access.add_api_key(key)
        store.access.add_session(session)
        store.access.save_idempotency(record)
    with database.transaction() as store:
        assert store.access.api_key_by_hash("sha256:abc") == key
        assert store.access.list_api_keys() == [key]
        store.access.save_api_key(ApiKey("key_1", "CI", None, "sha256:abc", T0, True))
        assert store.access.session_by_hash("tokhash") == session
        store.access.delete_session("tokhash")
        assert store.access.session_by_hash("tokhash") is None
        assert store.access.get_idempotency("key_1", "idem-1", lock=True) == record
        assert store.access.get_idempotency("key_2", "idem-1") is None
        assert store.access.purge_idempotency(T0) == 0
        assert store.access.purge_idempotency(later(1)) == 1
    with database.transaction() as store:
        assert store.access.api_key_by_hash("sha256:abc").revoked  # type: ignore[union-attr]
        assert store.access.get_idempotency("key_1", "idem-1") is None


def test_clock_override(database: Database) -> None:
    with database.transaction() as store:
        assert store.clock_override() is None
        store.set_clock_override(T0)
    with database.transaction() as store:
        assert store.clock_override() == T0
        store.set_clock_override(later(60))
    with database.read() as store:
        assert store.clock_override() == later(60)


def test_webhook_endpoint_round_trips(database: Database) -> None:
    endpoint = WebhookEndpoint("whe_1", "acc_1", "https://example.com/hook",
                               ("invoice.paid", "subscription.changed"), "whsec_x", T0)
    with database.transaction() as store:
        store.outbox.add_endpoint(endpoint)
    with database.transaction() as store:
        assert store.outbox.endpoints("acc_1") == [endpoint]
        assert store.outbox.endpoints(None) == [endpoint]
        assert store.outbox.endpoints("acc_2") == []
