"""3-D Secure on a plan change with Stripe (SPEC §9), against localstripe with its test card
`4000002760003184`: confirm answers 202 `requires_action` with the `client_secret` the
page's Stripe.js needs; the customer's bank challenge is finished with localstripe's
`_authenticate` route; the change applies once, when the PaymentIntent has succeeded (the
follow-up confirm or reconciliation, whichever comes first); a failed challenge changes
nothing; one never finished is cancelled by reconciliation once its quote is stale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from canone.services import payments
from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, bearer, config, move_clock
from .stripemode import (
    THREE_D_SECURE,
    change_confirmed,
    get,
    post,
    services,
    settings,
    stripe_sign_up,
)

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def challenged(client: TestClient, operator_key: str,
               localstripe: LocalStripe) -> tuple[str, str, dict[str, Any]]:
    """An account on a 3-D Secure card that confirmed an upgrade to enterprise (48.00 on
    16 April): its id, the quote token and the 202's body."""
    account = stripe_sign_up(client, operator_key, localstripe)
    card = client.put(f"{API}/accounts/{account['id']}/payment-method",
                      headers=bearer(operator_key),
                      json={"stripe_payment_method": localstripe.card_method(THREE_D_SECURE)})
    assert card.status_code == 200, card.text
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    token, answer = change_confirmed(client, operator_key, account["id"],
                                     config(tier="enterprise"))
    assert answer.status_code == 202, answer.text
    return account["id"], token, answer.json()


def confirm(client: TestClient, operator_key: str, account_id: str, token: str) -> Any:
    return client.post(f"{API}/accounts/{account_id}/subscription/confirm",
                       json={"quote_token": token},
                       headers={**bearer(operator_key), "Idempotency-Key": "upgrade-1"})


def tier(client: TestClient, operator_key: str, account_id: str) -> str:
    sub = get(client, operator_key, f"/accounts/{account_id}/subscription")
    return str(sub["configuration"]["tier"])


def test_confirm_answers_202_with_the_client_secret_and_applies_once_after_the_challenge(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account_id, token, action = challenged(client, operator_key, localstripe)
    (upgrade,) = [i for i in localstripe.payment_intents() if i["amount"] == 4800]
    assert action == {"status": "requires_action", "payment_intent": upgrade["id"],
                      "client_secret": upgrade["client_secret"],
                      "detail": payments.ACTION_MESSAGE}
    assert upgrade["status"] == "requires_action"
    # Asked again before the challenge: the same 202, no second PaymentIntent, no change.
    again = confirm(client, operator_key, account_id, token)
    assert (again.status_code, again.json()["payment_intent"]) == (202, upgrade["id"])
    assert tier(client, operator_key, account_id) == "plus"

    localstripe.authenticate(str(upgrade["id"]), str(upgrade["client_secret"]), success=True)
    answers = [confirm(client, operator_key, account_id, token) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json()["invoice"]["amount_paid"] == "48.00"
    assert answers[1].json() == answers[0].json()
    assert tier(client, operator_key, account_id) == "enterprise"
    invoices = get(client, operator_key, f"/accounts/{account_id}/invoices")["data"]
    assert [(i["kind"], i["total"], i["status"]) for i in invoices] == [
        ("upgrade", "48.00", "paid"), ("signup", "49.00", "paid")]
    assert sorted(i["amount"] for i in localstripe.payment_intents()) == [4800, 4900]


def test_reconciliation_applies_a_change_whose_challenge_succeeded(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account_id, token, action = challenged(client, operator_key, localstripe)
    move_clock(client, operator_key, "2026-04-16T08:05:00Z")
    assert payments.reconcile(services, older_than=timedelta(minutes=1)) == 0  # still open
    localstripe.authenticate(action["payment_intent"], action["client_secret"], success=True)

    assert payments.reconcile(services, older_than=timedelta(minutes=1)) == 1
    assert tier(client, operator_key, account_id) == "enterprise"
    followed = confirm(client, operator_key, account_id, token)
    assert (followed.status_code, followed.json()["invoice"]["total"]) == (200, "48.00")
    assert len(get(client, operator_key, f"/accounts/{account_id}/invoices")["data"]) == 2


AUTHENTICATION_FAILED = ("The bank could not authenticate this payment; nothing was charged."
                         " Try again or use another card.")


def test_a_failed_challenge_changes_nothing_and_says_the_bank_could_not_authenticate(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account_id, token, action = challenged(client, operator_key, localstripe)
    localstripe.authenticate(action["payment_intent"], action["client_secret"], success=False)
    failure = localstripe.http.get(f"/v1/payment_intents/{action['payment_intent']}").json()
    assert failure["last_payment_error"]["code"] == "payment_intent_authentication_failure"

    for _ in range(2):  # the follow-up confirm, and any later one, say the same
        failed = confirm(client, operator_key, account_id, token)
        problem = failed.json()
        assert (failed.status_code, problem["type"], problem["decline_code"],
                problem["detail"]) == (402, "urn:canone:problem:payment_failed",
                                       "authentication_failed", AUTHENTICATION_FAILED)
    assert tier(client, operator_key, account_id) == "plus"
    invoices = get(client, operator_key, f"/accounts/{account_id}/invoices")["data"]
    assert [i["kind"] for i in invoices] == ["signup"]


def test_a_challenge_never_finished_is_cancelled_once_its_quote_is_stale(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account_id, _token, action = challenged(client, operator_key, localstripe)
    move_clock(client, operator_key, "2026-04-17T09:00:00Z")

    assert payments.reconcile(services, older_than=timedelta(minutes=1)) == 1
    intent = localstripe.http.get(f"/v1/payment_intents/{action['payment_intent']}").json()
    assert intent["status"] == "canceled"
    assert tier(client, operator_key, account_id) == "plus"
    # The account is free to buy again: a new quote is charged on its own intent.
    fresh = post(client, operator_key, f"/accounts/{account_id}/subscription/preview",
                 {"target": config(tier="enterprise")})
    answer = client.post(f"{API}/accounts/{account_id}/subscription/confirm",
                         json={"quote_token": fresh["quote_token"]}, headers=bearer(operator_key))
    assert answer.status_code == 202, answer.text
    assert answer.json()["payment_intent"] != action["payment_intent"]
