"""`POST /webhooks/stripe` on localstripe (SPEC §9): a plan change whose PaymentIntent
needed 3-D Secure is applied once, when Stripe's event says it succeeded — whatever the
order and however often the events come; a wrong signature changes nothing."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from canone.integrations.payments.stripe import StripeGateway
from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, bearer, config, move_clock, quote_token, sign_up
from .stripemode import THREE_D_SECURE, post_event, services, settings

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def test_a_three_d_secure_upgrade_applies_once_when_stripes_events_say_it_succeeded(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account = sign_up(client, operator_key, payment_method={
        "stripe_payment_method": localstripe.card_method("4242424242424242")})
    key = bearer(operator_key)
    card = client.put(f"{API}/accounts/{account['id']}/payment-method", headers=key, json={
        "stripe_payment_method": localstripe.card_method(THREE_D_SECURE)})
    assert card.status_code == 200, card.text
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    token = quote_token(client, key, account["id"], config(tier="enterprise"))
    confirm = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                          json={"quote_token": token}, headers=key)
    assert (confirm.status_code, confirm.json()["status"]) == (202, "requires_action")
    (upgrade,) = [i for i in localstripe.payment_intents() if i["status"] == "requires_action"]
    assert confirm.json()["client_secret"] == upgrade["client_secret"]
    assert upgrade["amount"] == 4800

    # The customer passes the challenge; Stripe's events arrive, in any order, repeated.
    localstripe.authenticate(str(upgrade["id"]), str(upgrade["client_secret"]), success=True)
    events = localstripe.http.get("/v1/events", params={"type": "payment_intent.succeeded"})
    (succeeded,) = [e for e in events.json()["data"]
                    if e["data"]["object"]["id"] == upgrade["id"]]
    forged = post_event(client, succeeded, secret="whsec_someone_else")
    assert forged.status_code == 400
    assert forged.json()["type"] == "urn:canone:problem:bad_signature"
    sub = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key).json()
    assert sub["configuration"]["tier"] == "plus"  # a forged event changed nothing

    late_failure = {**succeeded, "id": "evt_late_failure", "type": "payment_intent.payment_failed"}
    answers = [post_event(client, event) for event in (late_failure, succeeded, succeeded)]
    assert [(a.status_code, a.json()["result"]) for a in answers] == [(200, "settled")] * 3

    sub = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key).json()
    assert sub["configuration"]["tier"] == "enterprise"
    assert sub["version"] == account["subscription"]["version"] + 1
    invoices = client.get(f"{API}/accounts/{account['id']}/invoices", headers=key).json()
    assert [(i["total"], i["amount_paid"], i["status"]) for i in invoices["data"]] == [
        ("48.00", "48.00", "paid"), ("49.00", "49.00", "paid")]
    # The page's follow-up confirmation answers the change the event applied.
    again = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                        json={"quote_token": token}, headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["invoice"]["total"] == "48.00"
    assert len(localstripe.payment_intents()) == 2  # the sign-up's and the upgrade's


def test_an_event_about_someone_elses_payment_is_ignored(client: TestClient,
                                                         services: Services) -> None:
    gateway = services.gateway
    assert isinstance(gateway, StripeGateway)
    intent = gateway.client.v1.payment_intents.create({
        "amount": 1000, "currency": "eur", "payment_method": "pm_card_visa"})
    event = {"id": "evt_other", "object": "event", "type": "payment_intent.succeeded",
             "created": int(time.time()), "api_version": None,
             "data": {"object": {"id": intent.id, "object": "payment_intent"}}}
    answer = post_event(client, event)
    assert (answer.status_code, answer.json()["result"]) == (200, "ignored")


def test_a_missing_signature_is_a_400(client: TestClient) -> None:
    answer = client.post("/webhooks/stripe", content=b"{}")
    assert answer.status_code == 400
    assert answer.json()["detail"] == "Stripe-Signature: the header is missing"
