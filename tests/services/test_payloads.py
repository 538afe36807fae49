"""The typed payloads of quote tokens and payment intents (issue 11, item 5): versioned JSON
both ways, another version refused, no password hash in a payment payload, and the intents
an earlier version left pending (migration 0005) still settled."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from canone.db.database import Database
from canone.services import accounts, signups
from canone.services.errors import PaymentFailed, PaymentPending
from canone.services.payloads import (
    CardOnFile,
    Declined,
    InvoicePayload,
    QuoteClaims,
    Settled,
    SignUpPayload,
    UnknownPayload,
)
from canone.services.payments import settle
from canone.services.ports import ChargeResult

from .conftest import DECLINED_CARD, TIMEOUT_CARD, at, config, make_services, sign_up

CLAIMS = QuoteClaims("acc_1", 3, date(2026, 4, 16), config(), config(tier="pro", seats=2),
                     4800, "9f2c")
SIGN_UP = SignUpPayload(
    "acc_1", "Ada's Shop", "Europe/Rome", "it", "EUR", "ada@example.com", "Ada",
    config(currency="EUR"),
    date(2026, 4, 1), date(2026, 4, 1), date(2026, 5, 1),
    CardOnFile("card_1", "visa", "4242", 12, 2035), None, "cus_1")


def test_each_payload_is_versioned_json_that_reads_back_equal() -> None:
    assert CLAIMS.to_json() == {
        "v": 1, "account_id": "acc_1", "subscription_version": 3, "day": "2026-04-16",
        "immediate": {"product": "marketing", "tier": "plus", "interval": "month",
                      "currency": "USD", "contacts": 1000, "seats": 1, "addons": []},
        "target": {"product": "marketing", "tier": "pro", "interval": "month",
                   "currency": "USD", "contacts": 1000, "seats": 2, "addons": []},
        "due": 4800, "nonce": "9f2c", "total": None, "credit": None}
    taxed = (replace(CLAIMS, total=5856, credit=2000),  # SPEC §8: bound by the token
             replace(SIGN_UP, taxed_at=datetime(2026, 4, 1, 9, tzinfo=UTC)))
    assert taxed[0].to_json()["total"] == 5856
    assert taxed[1].to_json()["taxed_at"] == "2026-04-01T09:00:00+00:00"
    for payload in (*taxed, CLAIMS, SIGN_UP, InvoicePayload("inv_1"),
                    Declined("No funds.", "declined"),
                    Settled("inv_1", "acc_1"), Settled(subscription={"version": 2}, credited=True)):
        raw = json.loads(json.dumps(payload.to_json()))
        assert raw["v"] == 1
        assert type(payload).from_json(raw) == payload
    assert SIGN_UP.to_json()["card"] == {"token": "card_1", "brand": "visa", "last4": "4242",
                                         "exp_month": 12, "exp_year": 2035, "country": "",
                                         "kind": "card"}
    assert SIGN_UP.to_json()["period"] == {"start": "2026-04-01", "end": "2026-05-01"}


def test_a_sign_up_keeps_a_bank_account_and_reads_an_older_card_as_a_card() -> None:
    iban = CardOnFile("pm_1", "sepa_debit", "3000", 0, 0, "DE", "sepa_debit")
    by_debit = replace(SIGN_UP, card=iban)
    assert SignUpPayload.from_json(json.loads(json.dumps(by_debit.to_json()))) == by_debit
    older = SIGN_UP.to_json()
    older["card"] = {k: v for k, v in older["card"].items() if k not in ("country", "kind")}
    assert SignUpPayload.from_json(older).card == CardOnFile("card_1", "visa", "4242", 12, 2035,
                                                             "", "card")


@pytest.mark.parametrize("raw", [
    {**CLAIMS.to_json(), "v": 2},
    {k: v for k, v in CLAIMS.to_json().items() if k != "v"},
    {**CLAIMS.to_json(), "due": "48.00"},
    {k: v for k, v in CLAIMS.to_json().items() if k != "target"},
    {"a": "acc_1", "v": 1, "d": "2026-04-16", "due": 4800},  # the one-letter claims of before
    ["acc_1", 1],
])
def test_another_version_or_shape_is_refused(raw: object) -> None:
    with pytest.raises(UnknownPayload, match="quote"):
        QuoteClaims.from_json(raw)


def test_the_password_hash_travels_beside_the_payload_and_is_dropped_once_settled(
        svc, clock) -> None:
    with pytest.raises(PaymentPending):
        sign_up(svc, card=TIMEOUT_CARD)  # left pending: its outcome was lost
    with svc.database.read() as store:
        pending = store.payments.pending_intents(at(2030, 1, 1), 10)[0]
    assert "password" not in json.dumps(pending.payload)
    assert pending.password_hash is not None and pending.password_hash.startswith("$argon2")

    settle(svc, pending.key, ChargeResult("succeeded", "ch_1"))

    with svc.database.read() as store:
        user = store.people.user_by_email("ada@example.com")
        settled = store.payments.get_intent(pending.key)
    assert user is not None and accounts.password_matches(user.password_hash, "correct horse")
    assert settled is not None and settled.status == "succeeded"
    assert settled.password_hash is None
    assert settled.result is not None and settled.result["v"] == 1
    assert Settled.from_json(settled.result).account_id == user.account_id


def test_a_declined_sign_up_keeps_no_password_hash(svc) -> None:
    form = signups.SignUp(
        name="Ada's Shop", timezone="UTC", locale="en", currency="USD",
        admin_email="ada@example.com", admin_name="Ada", admin_password="correct horse",
        config=config(), card=DECLINED_CARD)
    with pytest.raises(PaymentFailed):
        signups.sign_up(svc, form, request_key="first try")
    key = "sgn_" + hashlib.sha256(b"first try").hexdigest()[:40]  # as sign_up keys it
    with svc.database.read() as store:
        failed = store.payments.get_intent(key)
    assert failed is not None and failed.status == "failed"
    assert failed.password_hash is None
    assert failed.result is not None
    assert Declined.from_json(failed.result) == Declined("Your card was declined.", "declined")


OLD_CHANGE = {"a": "acc_1", "v": 1, "d": "2026-04-16",
              "i": {"product": "marketing", "tier": "plus", "interval": "month",
                    "currency": "USD", "contacts": 1000, "seats": 1, "addons": []},
              "t": {"product": "marketing", "tier": "pro", "interval": "month",
                    "currency": "USD", "contacts": 1000, "seats": 1, "addons": []},
              "due": 4800, "n": "9f2c"}


def test_intents_left_by_the_earlier_version_are_rewritten_and_settle(
        empty_database: Database, clock, tmp_path: Path) -> None:
    """Migration 0005 on intents written before it: a pending sign-up (one-letter card and
    period lists, its password hash inside) settles into an account whose admin signs in
    with that password; a settled one loses the hash; a change and an invoice read typed."""
    empty_database.migrate("0004")
    svc = make_services(empty_database, clock, tmp_path / "sandbox.db")
    password_hash = accounts.hash_password("correct horse")
    old_signup = {**SIGN_UP.to_json(), "password_hash": password_hash,
                  "period": ["2026-04-01", "2026-05-01"],
                  "card": ["card_1", "visa", "4242", 12, 2035]}
    del old_signup["v"]
    with empty_database.engine.begin() as connection:
        for key, purpose, status, payload, result in [
                ("sgn_pending", "signup", "pending", old_signup, None),
                ("sgn_done", "signup", "succeeded", {**old_signup, "email": "bea@example.com"},
                 {"account_id": "acc_2", "invoice_id": "inv_2"}),
                ("chg_1", "change", "pending", OLD_CHANGE, None),
                ("col_inv_1_1", "invoice", "failed", {"invoice_id": "inv_1"},
                 {"message": "Insufficient funds.", "decline_code": "insufficient_funds"})]:
            connection.execute(text(
                "INSERT INTO payment_intents (key, account_id, purpose, amount, currency,"
                " card_token, payload, status, created_at, result) VALUES (:key, NULL,"
                " :purpose, 4900, 'EUR', 'card_1', :payload, :status, :at, :result)"),
                {"key": key, "purpose": purpose, "payload": json.dumps(payload),
                 "status": status, "at": at(2026, 4, 1).replace(tzinfo=None),
                 "result": None if result is None else json.dumps(result)})

    empty_database.migrate()

    with empty_database.read() as store:
        intents = {key: store.payments.get_intent(key) for key in
                   ("sgn_pending", "sgn_done", "chg_1", "col_inv_1_1")}
    pending, done, change, invoice = intents.values()
    assert pending is not None and pending.password_hash == password_hash
    assert SignUpPayload.from_json(pending.payload) == SIGN_UP
    assert "password_hash" not in pending.payload
    assert done is not None and done.password_hash is None
    assert "password_hash" not in done.payload
    assert Settled.from_json(done.result) == Settled(invoice_id="inv_2", account_id="acc_2")
    assert change is not None and QuoteClaims.from_json(change.payload) == QuoteClaims(
        "acc_1", 1, date(2026, 4, 16), config(), config(tier="pro"), 4800, "9f2c")
    assert invoice is not None and InvoicePayload.from_json(invoice.payload).invoice_id == "inv_1"
    assert Declined.from_json(invoice.result) == Declined("Insufficient funds.",
                                                          "insufficient_funds")

    settle(svc, "sgn_pending", ChargeResult("succeeded", "ch_1"))
    with empty_database.read() as store:
        ada = store.people.user_by_email("ada@example.com")
        account = store.accounts.get("acc_1")
    assert ada is not None and accounts.password_matches(ada.password_hash, "correct horse")
    assert account is not None and account.card is not None and account.card.last4 == "4242"
