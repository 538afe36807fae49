"""Stripe's webhooks (SPEC §9): the Stripe-Signature checked with the SDK; a wrong, stale
or missing signature is refused with a reason, and so is a body that is not an event."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from canone.integrations.payments.stripe import StripeGateway
from canone.integrations.payments.stripe_events import (
    HANDLED_EVENTS,
    WebhookRejected,
    verify_event,
)
from canone.services.ports import ChargeRequest, PaymentEvent
from local_http import QuietHandler, serving
from stripefixtures import TEST_KEY, LocalStripe

SECRET = "whsec_test_canone"
EVENTS = Path(__file__).parent / "stripe_recordings" / "events"
DISPUTE = json.loads((EVENTS / "charge.dispute.created.json").read_text("utf-8"))


def signature(payload: bytes, secret: str = SECRET, at: int | None = None) -> str:
    """The Stripe-Signature header, as Stripe computes it."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def dispute_payload() -> bytes:
    return json.dumps(DISPUTE["event"]).encode()


def test_a_genuine_event_is_reduced_to_what_a_handler_needs() -> None:
    payload = dispute_payload()
    assert verify_event(payload, signature(payload), SECRET) == PaymentEvent(
        id="evt_1QmT9hLkdIwHu7ixDsp00001", type="charge.dispute.created",
        object_id="du_1QmT9hLkdIwHu7ixDsp00002", object_type="dispute", created=1796400500,
        api_version="2026-10-28.endive")
    assert "charge.dispute.created" in HANDLED_EVENTS


def test_a_signature_made_with_another_secret_is_refused() -> None:
    payload = dispute_payload()
    with pytest.raises(WebhookRejected, match=r"^Stripe-Signature: No signatures found"):
        verify_event(payload, signature(payload, "whsec_someone_else"), SECRET)


def test_a_body_changed_after_signing_is_refused() -> None:
    payload = dispute_payload()
    header = signature(payload)
    with pytest.raises(WebhookRejected, match=r"^Stripe-Signature: No signatures found"):
        verify_event(payload.replace(b"4800", b"1"), header, SECRET)


def test_a_stale_signature_is_refused_as_a_possible_replay() -> None:
    payload = dispute_payload()
    stale = signature(payload, at=int(time.time()) - 301)
    with pytest.raises(WebhookRejected, match=r"^Stripe-Signature: Timestamp outside the"
                                              r" tolerance zone"):
        verify_event(payload, stale, SECRET)
    assert verify_event(payload, signature(payload, at=int(time.time()) - 250), SECRET)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=abc"])
def test_a_missing_or_malformed_signature_is_refused(header: str | None) -> None:
    with pytest.raises(WebhookRejected, match=r"^Stripe-Signature: "):
        verify_event(dispute_payload(), header, SECRET)


def test_a_signed_body_that_is_not_an_event_is_refused() -> None:
    for payload, reason in ((b"not json", "JSON"), (b'{"id": "evt_1"}', "data.object")):
        with pytest.raises(WebhookRejected, match=reason):
            verify_event(payload, signature(payload), SECRET)


# -- a delivery from localstripe ------------------------------------------------------------


@dataclass
class Receiver:
    """Keeps what localstripe posts (headers, body) and answers 200."""

    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.deliveries.append((headers, self.body()))
            self.answer(200)

    with serving(Handler) as base:
        receiver.url = f"{base}/webhooks/stripe"
        yield receiver


def test_localstripes_signed_delivery_is_verified(stripe_base: str, localstripe: LocalStripe,
                                                  receiver: Receiver) -> None:
    localstripe.http.post("/_config/webhooks/canone", data={
        "url": receiver.url, "secret": SECRET,
        "events[]": "payment_intent.succeeded"}).raise_for_status()
    gateway = StripeGateway(TEST_KEY, api_base=stripe_base, network_retries=0)
    customer = gateway.create_customer("acc_1", "Northwind")
    token = gateway.save_payment_method(customer, "pm_card_visa").token
    asked = ChargeRequest("chg_1", token, 4800, "EUR", off_session=False)
    intent = gateway.open_charge(asked)
    gateway.confirm_charge(intent, asked)
    # Events of earlier tests may still be on their way (localstripe sends each a second
    # late, to every endpoint registered by then): this charge's is the one to check.
    deadline = time.monotonic() + 15
    ours: list[tuple[dict[str, str], bytes]] = []
    while not ours and time.monotonic() < deadline:
        time.sleep(0.1)
        ours = [d for d in receiver.deliveries if intent.encode() in d[1]]
    (headers, body), = ours
    event = verify_event(body, headers["stripe-signature"], SECRET)
    assert (event.type, event.object_id, event.object_type) == (
        "payment_intent.succeeded", intent, "payment_intent")
    assert event.id.startswith("evt_")
    with pytest.raises(WebhookRejected):
        verify_event(body, headers["stripe-signature"], "whsec_wrong")
