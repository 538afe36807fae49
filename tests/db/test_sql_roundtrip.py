"""Every record comes back from the store exactly as it went in, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from canone.db.database import Database
from canone.services.records import (
    AuditEntry,
    ChangeRequest,
    Event,
    LedgerEntry,
    Payment,
    PaymentIntent,
    RequestEvent,
    Staff,
    Usage,
)
from canone.services.store import (
    ApiKey,
    IdempotencyRecord,
    Notification,
    OutboxItem,
    WebhookEndpoint,
    WebSession,
)

from .samples import BIG, CONFIG, T0, account, invoice, later, subscription, user


def test_account_with_card_round_trips_and_saves(database: Database) -> None:
    card_less = account(2, card=None, auto_upgrade=False)
    with database.transaction() as store:
        store.add_account(account())
        store.add_account(card_less)
    with database.transaction() as store:
        assert store.get_account("acc_1") == account()
        assert store.get_account("acc_2", lock=True) == card_less
        assert store.get_account("acc_404") is None
        store.save_account(account(name="Rossi Srl", status="past_due", card=None))
    with database.transaction() as store:
        assert store.get_account("acc_1") == account(name="Rossi Srl", status="past_due",
                                                     card=None)


def test_datetimes_come_back_aware_in_utc(database: Database) -> None:
    rome = datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Europe/Rome"))
    with database.transaction() as store:
        store.add_account(account(created_at=rome))
    with database.transaction() as store:
        created = store.get_account("acc_1").created_at  # type: ignore[union-attr]
    assert created == rome
    assert created.utcoffset() == timedelta(0)
    assert created == datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc)  # noqa: UP017


def test_users_and_staff_round_trip(database: Database) -> None:
    member = Staff("stf_1", "Support@Canone.example", "Sara", "hash")
    with database.transaction() as store:
        store.add_account(account())
        store.add_user(user(2, email="zeno@example.com"))
        store.add_user(user(1))
        store.add_staff(member)
    with database.transaction() as store:
        assert store.get_user("usr_1") == user(1)
        assert store.user_by_email("anna.1@EXAMPLE.com") == user(1)
        assert store.users_of("acc_1") == [user(1), user(2, email="zeno@example.com")]
        assert store.get_staff("stf_1") == member
        assert store.staff_by_email("support@canone.example") == member
        assert store.staff_by_email("nobody@canone.example") is None
        store.save_user(user(1, role="admin", billing=False, active=False))
    with database.transaction() as store:
        assert store.get_user("usr_1") == user(1, role="admin", billing=False, active=False)


def test_subscription_with_configurations_round_trips(database: Database) -> None:
    with database.transaction() as store:
        store.add_account(account())
        store.add_subscription(subscription())
    with database.transaction() as store:
        assert store.subscription_of("acc_1") == subscription()
        changed = subscription(config=CONFIG.with_(contacts=None, addons=()), pending=None,
                               version=8, cancel_at_period_end=True)
        store.save_subscription(changed)
    with database.transaction() as store:
        assert store.subscription_of("acc_1", lock=True) == changed
        assert store.subscription_of("acc_2") is None


def test_invoice_with_lines_and_big_amounts_round_trips(database: Database) -> None:
    signup = invoice(2, number="2026-000002", kind="signup", period_start=None,
                     period_end=None, lines=(), total=0, next_attempt_at=None, status="paid")
    with database.transaction() as store:
        store.add_account(account())
        store.add_invoice(invoice())
        store.add_invoice(signup)
    with database.transaction() as store:
        assert store.get_invoice("inv_1") == invoice()
        assert store.get_invoice("inv_2") == signup
        paid = invoice(status="paid", amount_paid=BIG - 1_734, attempts=3, next_attempt_at=None)
        store.save_invoice(paid)
    with database.transaction() as store:
        assert store.get_invoice("inv_1") == paid
        assert store.get_invoice("inv_1").amount_due == 0  # type: ignore[union-attr]


def test_payments_intents_and_ledger_round_trip(database: Database) -> None:
    paid = Payment("pay_1", "acc_1", "inv_1", BIG, "EUR", "succeeded", "ch_1", "key-1", "", T0)
    failed = Payment("pay_2", "acc_1", None, 100, "EUR", "failed", None, "key-2", "declined",
                     later(1))
    intent = PaymentIntent("key-1", None, "signup", 4_900, "EUR", "card_tok",
                           {"config": {"seats": 3}, "note": "è"}, "pending", T0,
                           password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
    with database.transaction() as store:
        store.add_account(account())
        store.add_payment(failed)
        store.add_payment(paid)
        store.add_intent(intent)
        store.add_ledger_entry(LedgerEntry("led_2", "acc_1", 10_000, "EUR", "credit", None, T0))
        store.add_ledger_entry(LedgerEntry("led_1", "acc_1", -2_500, "EUR", "used", "inv_1",
                                           T0))
    with database.transaction() as store:
        assert store.payments_of("acc_1") == [paid, failed]
        assert store.get_intent("key-1", lock=True) == intent
        done = intent.but(account_id="acc_1", status="succeeded", result={"invoice": "inv_1"})
        store.save_intent(done)
        assert [e.id for e in store.ledger_of("acc_1")] == ["led_2", "led_1"]
        assert store.ledger_of("acc_1")[1] == LedgerEntry("led_1", "acc_1", -2_500, "EUR",
                                                          "used", "inv_1", T0)
        assert store.balance_of("acc_1") == 7_500
        assert store.balance_of("acc_2") == 0
    with database.transaction() as store:
        assert store.get_intent("key-1") == done


def test_change_request_history_is_appended(database: Database) -> None:
    opened = RequestEvent(T0, "user:usr_1", None, "open", "please reduce")
    request = ChangeRequest("req_1", "acc_1", "anna@example.com", CONFIG, "too many seats",
                            "hello", "open", "portal", True, None, T0, T0, (opened,))
    with database.transaction() as store:
        store.add_account(account())
        store.add_request(request)
    moved = RequestEvent(later(5), "staff:stf_1", "open", "completed", "done")
    done = request.but(status="completed", effective="now", desired=None, updated_at=later(5),
                       history=(opened, moved))
    with database.transaction() as store:
        assert store.get_request("req_1", lock=True) == request
        store.save_request(done)
    with database.transaction() as store:
        assert store.get_request("req_1") == done
        assert store.requests_of("acc_1") == [done]


def test_audit_usage_and_thresholds(database: Database) -> None:
    first = AuditEntry("aud_1", "acc_1", "user:usr_1", "subscription.changed",
                       {"seats": 3, "price": "49.00"}, None, T0)
    second = AuditEntry("aud_2", "acc_1", "staff:stf_1", "request.applied", None,
                        {"nested": {"list": [1, 2.5, None, True]}}, T0)
    with database.transaction() as store:
        store.add_audit(first)
        store.add_audit(second)
        store.save_usage(Usage("acc_1", 2_400, 3, T0))
        store.save_usage(Usage("acc_1", 2_450, 4, later(1)))
        assert store.note_threshold("acc_1", date(2026, 3, 1), 90)
        assert not store.note_threshold("acc_1", date(2026, 3, 1), 90)
        assert store.note_threshold("acc_1", date(2026, 4, 1), 90)
    with database.transaction() as store:
        assert store.audit_of("acc_1", 10) == [second, first]
        assert store.audit_of("acc_1", 1) == [second]
        assert store.audit_of("acc_1", 10, action="subscription.changed") == [first]
        assert store.audit_of("acc_1", 10, action="renewal.blocked") == []
        assert store.usage_of("acc_1") == Usage("acc_1", 2_450, 4, later(1))
        assert store.usage_of("acc_2") is None
        assert not store.note_threshold("acc_1", date(2026, 4, 1), 90)


def test_events_and_notifications(database: Database) -> None:
    event = Event("evt_1", "subscription.changed", "acc_1", {"seats": [3, 5]}, T0)
    operator = Event("evt_2", "billing.run", None, {}, later(1))
    note = Notification("ntf_1", "acc_1", "anna@example.com", "purchase_confirmation", "it",
                        {"invoice": "inv_1", "total": "49.00"}, T0)
    with database.transaction() as store:
        store.add_event(event)
        store.add_event(operator)
        store.add_notification(note)
    with database.transaction() as store:
        assert store.events_of("acc_1", 10) == [event]
        assert store.events_of(None, 10) == [operator, event]
        [item] = store.due_notifications(later(1), 10)
        assert item == OutboxItem(
            "ntf_1", "email",
            {"to": "anna@example.com", "kind": "purchase_confirmation", "locale": "it",
             "data": {"invoice": "inv_1", "total": "49.00"}, "account_id": "acc_1"},
            0, T0, "pending", None)
        store.save_outbox_item(replace(item, attempts=1, next_attempt_at=later(10),
                                       last_error="421 try later"))
    with database.transaction() as store:
        assert store.due_notifications(later(9), 10) == []
        [retry] = store.due_notifications(later(10), 10)
        assert (retry.attempts, retry.last_error) == (1, "421 try later")


def test_api_keys_sessions_and_idempotency(database: Database) -> None:
    key = ApiKey("key_1", "CI", None, "sha256:abc", T0, False)
    session = WebSession("tokhash", "user:usr_1", "csrf-token", later(60))
    record = IdempotencyRecord("key_1", "idem-1", "POST /v1/x 1a2b", 201, b"\x00{\"ok\":1}",
                               T0)
    with database.transaction() as store:
        store.add_api_key(key)
        store.add_session(session)
        store.save_idempotency(record)
    with database.transaction() as store:
        assert store.api_key_by_hash("sha256:abc") == key
        assert store.list_api_keys() == [key]
        store.save_api_key(ApiKey("key_1", "CI", None, "sha256:abc", T0, True))
        assert store.session_by_hash("tokhash") == session
        store.delete_session("tokhash")
        assert store.session_by_hash("tokhash") is None
        assert store.get_idempotency("key_1", "idem-1", lock=True) == record
        assert store.get_idempotency("key_2", "idem-1") is None
        assert store.purge_idempotency(T0) == 0
        assert store.purge_idempotency(later(1)) == 1
    with database.transaction() as store:
        assert store.api_key_by_hash("sha256:abc").revoked  # type: ignore[union-attr]
        assert store.get_idempotency("key_1", "idem-1") is None


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
        store.add_webhook_endpoint(endpoint)
    with database.transaction() as store:
        assert store.webhook_endpoints("acc_1") == [endpoint]
        assert store.webhook_endpoints(None) == [endpoint]
        assert store.webhook_endpoints("acc_2") == []
