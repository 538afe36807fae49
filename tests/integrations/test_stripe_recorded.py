"""The Stripe gateway against recorded Stripe responses (tests/stripe_replay.py), for what
localstripe cannot do (SPEC §9): off-session authentication_required, a saved card declined
for insufficient funds, SEPA processing for days, a refund that fails later, idempotency-key
replays. Each recording names the Stripe behaviour it stands for."""

from __future__ import annotations

import json

import pytest

from canone.integrations.payments.stripe import StripeGateway
from canone.services.ports import (
    AUTHENTICATION_REQUIRED,
    DECLINED,
    INSUFFICIENT_FUNDS,
    PROCESSING,
    SUCCEEDED,
    ChargeRequest,
    ChargeResult,
    RefundResult,
)
from stripe_replay import RECORDINGS, StripeReplay

CARD = "pm_1QmT3bLkdIwHu7ix0XbW9h2K"


def gateway(replay: StripeReplay) -> StripeGateway:
    return StripeGateway("sk_test_recorded", api_base=replay.base, network_retries=0)


def renewal(key: str = "col_inv_3f2a_2", token: str = CARD) -> ChargeRequest:
    return ChargeRequest(key, token, 4800, "EUR", off_session=True)


def test_every_recording_says_what_stripe_behaviour_it_stands_for() -> None:
    found = sorted(RECORDINGS.rglob("*.json"))  # the webhook bodies of events/ too
    assert len(found) > len(list(RECORDINGS.glob("*.json")))
    for path in found:
        recording = json.loads(path.read_text("utf-8"))
        assert len(recording["stands_for"]) > 80, path.name
        assert recording["source"], path.name
        assert recording.get("exchanges") or recording.get("event"), path.name


def test_off_session_authentication_required_is_its_own_outcome_not_a_decline() -> None:
    with StripeReplay("offsession_authentication_required") as replay:
        outcome = gateway(replay).confirm_charge("pi_3QmT4cLkdIwHu7ix1a2b3c4d", renewal())
    assert outcome == ChargeResult(
        AUTHENTICATION_REQUIRED, None,
        "Your card was declined. This transaction requires authentication.",
        "pi_3QmT4cLkdIwHu7ix1a2b3c4d", key="col_inv_3f2a_2")
    (confirm,) = replay.sent
    assert confirm.form == {"off_session": "true"}
    assert confirm.headers["idempotency-key"] == "canone-col_inv_3f2a_2-confirm"
    assert confirm.headers["stripe-version"] == gateway(replay).api_version
    assert replay.errors == []


def test_a_saved_card_declined_for_insufficient_funds_says_so() -> None:
    with StripeReplay("saved_card_insufficient_funds") as replay:
        outcome = gateway(replay).confirm_charge("pi_3QmT5dLkdIwHu7ix0Fq8aA1b", renewal())
    assert outcome == ChargeResult(INSUFFICIENT_FUNDS, None, "Your card has insufficient funds.",
                                   "pi_3QmT5dLkdIwHu7ix0Fq8aA1b", key="col_inv_3f2a_2")
    assert replay.errors == []


def test_a_sepa_debit_stays_processing_until_stripe_says_it_failed() -> None:
    intent = "pi_3QmT6eLkdIwHu7ixSepa0001"
    with StripeReplay("sepa_processing_then_failed") as replay:
        stripe = gateway(replay)
        first = stripe.confirm_charge(intent, renewal())
        days_later = stripe.charge_outcome(intent)
        failed = stripe.charge_outcome(intent)
    assert (first.status, first.final) == (PROCESSING, False)
    assert days_later == ChargeResult(PROCESSING, None, "", intent, key="col_inv_3f2a_2")
    assert failed == ChargeResult(
        DECLINED, None,
        "The customer's bank account has insufficient funds to cover this payment.", intent,
        key="col_inv_3f2a_2")
    assert replay.errors == []


def test_a_refund_pending_at_first_can_fail_later() -> None:
    with StripeReplay("refund_pending_then_failed") as replay:
        stripe = gateway(replay)
        asked = stripe.refund("pi_3QmT7fLkdIwHu7ix0Rf1PiId", 1800, "ref_inv_3f2a_1")
        later = stripe.refund_outcome(asked.refund_id)
    intent = "pi_3QmT7fLkdIwHu7ix0Rf1PiId"
    assert asked == RefundResult("re_3QmT7fLkdIwHu7ix0Rf1Xy2z", "pending", 1800, "", intent)
    assert later == RefundResult("re_3QmT7fLkdIwHu7ix0Rf1Xy2z", "failed", 1800,
                                 "The refund failed: expired_or_canceled_card.", intent)
    create = replay.sent[0]
    assert create.form == {"payment_intent": "pi_3QmT7fLkdIwHu7ix0Rf1PiId", "amount": "1800"}
    assert create.headers["idempotency-key"] == "canone-ref_inv_3f2a_1-refund"
    assert replay.errors == []


def test_opening_again_with_the_same_key_is_answered_with_the_same_payment_intent() -> None:
    asked = ChargeRequest("chg_5e1b0f", CARD, 4850, "EUR", off_session=False)
    with StripeReplay("idempotent_replay") as replay:
        stripe = gateway(replay)
        first = stripe.open_charge(asked)
        again = stripe.open_charge(asked)  # the first answer was lost: the same request
        with pytest.raises(ValueError, match="same parameters"):
            stripe.open_charge(ChargeRequest("chg_5e1b0f", CARD, 9900, "EUR", False))
    assert first == again == "pi_3QmT8gLkdIwHu7ix0IdEm001"
    creates = [sent for sent in replay.sent if sent.method == "POST"]
    assert [sent.headers["idempotency-key"] for sent in creates] == [
        "canone-chg_5e1b0f-create"] * 3
    assert creates[0].form == {
        "amount": "4850", "currency": "eur", "customer": "cus_Rf2a8XkQe1Bn4Z",
        "payment_method": CARD, "payment_method_types[0]": "card",
        "metadata[canone_intent]": "chg_5e1b0f"}
    assert creates[0].form == creates[1].form
    assert replay.errors == []


def test_an_intent_is_looked_up_by_canones_key_in_its_metadata() -> None:
    with StripeReplay("search_by_intent_key") as replay:
        stripe = gateway(replay)
        found = stripe.lookup("col_inv_3f2a_2")
        missing = stripe.lookup("col_inv_9999_1")
    assert found == ChargeResult(SUCCEEDED, "ch_3QmTAiLkdIwHu7ixSrch0002", "",
                                 "pi_3QmTAiLkdIwHu7ixSrch0001", key="col_inv_3f2a_2")
    assert missing is None
    assert [sent.query for sent in replay.sent] == [
        {"query": "metadata['canone_intent']:'col_inv_3f2a_2'", "limit": "1"},
        {"query": "metadata['canone_intent']:'col_inv_9999_1'", "limit": "1"}]
    assert replay.errors == []
