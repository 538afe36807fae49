"""SEPA Direct Debit with Stripe (SPEC §9), against localstripe (its IBAN
DE62370400440532013001 is processing, then fails; DE89370400440532013000 succeeds): for EUR
accounts only; a plan change paid by SEPA applies at once while the debit is processing,
with no second PaymentIntent meanwhile; its invoice is paid when the debit succeeds, and
enters the retry schedule when it fails."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from canone.services import payments
from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, bearer, config, move_clock
from .stripemode import get, post, services, settings, stripe_sign_up

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name

IBAN_SUCCEEDS, IBAN_FAILS = "DE89370400440532013000", "DE62370400440532013001"
EUR = {"currency": "EUR"}


def eur_account(client: TestClient, operator_key: str, localstripe: LocalStripe,
                iban: str) -> dict[str, Any]:
    account = stripe_sign_up(client, operator_key, localstripe, currency="EUR",
                             subscription=config(currency="EUR"))
    put = client.put(f"{API}/accounts/{account['id']}/payment-method",
                     headers=bearer(operator_key),
                     json={"stripe_payment_method": localstripe.sepa_method(iban)})
    assert put.status_code == 200, put.text
    assert put.json()["card"]["brand"] == "sepa_debit"
    return account


def upgrade(client: TestClient, operator_key: str, account_id: str) -> Any:
    token = post(client, operator_key, f"/accounts/{account_id}/subscription/preview",
                 {"target": config(currency="EUR", tier="enterprise")})["quote_token"]
    return token, post(client, operator_key, f"/accounts/{account_id}/subscription/confirm",
                       {"quote_token": token})


def upgrades_at_stripe(localstripe: LocalStripe) -> list[dict[str, Any]]:
    return [i for i in localstripe.payment_intents() if i["amount"] == 4800]


def reconciled_once_failed(client: TestClient, operator_key: str, services: Services,
                           localstripe: LocalStripe, debit_id: str) -> None:
    """Once localstripe has failed the processing debit (about half a second later), ten
    minutes on, reconciliation settles it."""
    deadline = time.monotonic() + 10
    while localstripe.http.get(f"/v1/payment_intents/{debit_id}").json()["status"] == (
            "processing") and time.monotonic() < deadline:
        time.sleep(0.1)
    move_clock(client, operator_key, "2026-04-16T08:10:00Z")
    assert payments.reconcile(services, older_than=timedelta(minutes=5)) == 1


def test_sepa_is_for_eur_accounts(client: TestClient, operator_key: str,
                                  localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)  # USD
    put = client.put(f"{API}/accounts/{account['id']}/payment-method",
                     headers=bearer(operator_key),
                     json={"stripe_payment_method": localstripe.sepa_method(IBAN_SUCCEEDS)})
    assert (put.status_code, put.json()["field"], put.json()["detail"]) == (
        422, "payment_method.stripe_payment_method",
        "SEPA Direct Debit is for accounts billed in EUR: use a card for this account.")
    assert get(client, operator_key, f"/accounts/{account['id']}")["card"]["last4"] == "4242"


def test_a_change_paid_by_sepa_applies_at_once_and_is_paid_when_the_debit_succeeds(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account = eur_account(client, operator_key, localstripe, IBAN_SUCCEEDS)
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    _, done = upgrade(client, operator_key, account["id"])
    assert done["subscription"]["configuration"]["tier"] == "enterprise"
    assert (done["invoice"]["status"], done["invoice"]["amount_paid"]) == ("paid", "48.00")
    (debit,) = upgrades_at_stripe(localstripe)
    assert debit["status"] == "succeeded"
    method = localstripe.http.get(f"/v1/payment_methods/{debit['payment_method']}").json()
    assert method["type"] == "sepa_debit"


def test_while_the_debit_is_processing_the_change_applies_once_then_a_failure_is_retried(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = eur_account(client, operator_key, localstripe, IBAN_FAILS)
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    token, done = upgrade(client, operator_key, account["id"])
    assert done["subscription"]["configuration"]["tier"] == "enterprise"
    invoice = done["invoice"]
    assert (invoice["status"], invoice["amount_due"]) == ("open", "48.00")
    again = post(client, operator_key, f"/accounts/{account['id']}/subscription/confirm",
                 {"quote_token": token})
    assert again == done
    post(client, operator_key, "/billing-runs")  # the invoice's debit is its attempt
    (debit,) = upgrades_at_stripe(localstripe)
    assert debit["status"] == "processing"

    reconciled_once_failed(client, operator_key, services, localstripe, debit["id"])

    after = get(client, operator_key, f"/invoices/{invoice['id']}")
    assert (after["status"], after["amount_due"]) == ("open", "48.00")
    sub = get(client, operator_key, f"/accounts/{account['id']}/subscription")
    assert sub["configuration"]["tier"] == "enterprise"  # the mandate bought it
    with services.database.read() as store:
        found = store.invoices.get(invoice["id"])
    assert found is not None and found.attempts == 1
    assert found.next_attempt_at is not None
    assert found.next_attempt_at.date().isoformat() == "2026-04-18"
    assert len(upgrades_at_stripe(localstripe)) == 1
