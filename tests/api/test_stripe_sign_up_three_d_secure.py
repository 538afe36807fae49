"""3-D Secure at sign-up with Stripe (SPEC §9), against localstripe: the sign-up answers 202
`requires_action` with the `client_secret`; nothing exists until the payment succeeds; the
same request sent again with its Idempotency-Key after the challenge creates the account
once, charged once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stripefixtures import LocalStripe

from .conftest import API, bearer, signup_body
from .stripemode import THREE_D_SECURE, VISA, services, settings

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def test_a_sign_up_whose_bank_asks_for_3ds_is_created_once_after_the_challenge(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    body = signup_body(payment_method={
        "stripe_payment_method": localstripe.card_method(THREE_D_SECURE)})
    headers = {**bearer(operator_key), "Idempotency-Key": "sign-up-1"}
    asked = client.post(f"{API}/accounts", json=body, headers=headers)
    assert asked.status_code == 202, asked.text
    action = asked.json()
    (paying,) = localstripe.payment_intents()
    assert (action["status"], action["client_secret"]) == ("requires_action",
                                                           paying["client_secret"])
    found = client.get(f"{API}/accounts", params={"q": "ada@example.com"},
                       headers=bearer(operator_key))
    assert found.json()["data"] == []  # nothing until the payment succeeds

    localstripe.authenticate(action["payment_intent"], action["client_secret"], success=True)
    made = [client.post(f"{API}/accounts", json=body, headers=headers) for _ in range(2)]

    assert [answer.status_code for answer in made] == [201, 201]
    assert made[1].json()["id"] == made[0].json()["id"]
    assert made[0].json()["invoice"]["amount_paid"] == "49.00"
    assert [(i["amount"], i["status"]) for i in localstripe.payment_intents()] == [
        (4900, "succeeded")]


def test_a_sign_up_left_at_its_bank_challenge_gives_way_to_a_new_one(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    # The customer closed the challenge and signs up again, with another card: the first
    # sign-up is cancelled at Stripe and the second goes on, at once, not a day later.
    left = signup_body(payment_method={
        "stripe_payment_method": localstripe.card_method(THREE_D_SECURE)})
    first_try = {**bearer(operator_key), "Idempotency-Key": "sign-up-1"}
    assert client.post(f"{API}/accounts", json=left, headers=first_try).status_code == 202

    made = client.post(f"{API}/accounts", headers={**bearer(operator_key),
                                                   "Idempotency-Key": "sign-up-2"},
                       json=signup_body(payment_method={
                           "stripe_payment_method": localstripe.card_method(VISA)}))

    assert made.status_code == 201, made.text
    assert made.json()["invoice"]["amount_paid"] == "49.00"
    assert [(i["amount"], i["status"]) for i in localstripe.payment_intents()] == [
        (4900, "canceled"), (4900, "succeeded")]
    # The first tab's request sent again (its challenge finished too late) creates nothing.
    late = client.post(f"{API}/accounts", json=left, headers=first_try)
    assert late.status_code == 402, late.text
    assert "replaced this one" in late.json()["detail"]
    found = client.get(f"{API}/accounts", params={"q": "ada@example.com"},
                       headers=bearer(operator_key))
    assert [account["id"] for account in found.json()["data"]] == [made.json()["id"]]
