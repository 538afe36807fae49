"""Refunds through Stripe (SPEC §9), against localstripe: staff refund a paid invoice in
part, then the rest; never more than was paid (422 naming `amount`), nothing once refunded
in full (409); the invoice is `refunded` once refunds cover what it was paid; a retried
request refunds once; the account's own key may not refund."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, account_key, bearer
from .stripemode import get, services, settings, stripe_sign_up

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def refund(client: TestClient, key: str, invoice_id: str, body: dict[str, Any] | None = None,
           idempotency_key: str | None = None) -> Any:
    headers = bearer(key) | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    return client.post(f"{API}/invoices/{invoice_id}/refunds", json=body, headers=headers)


def stripe_refunds(localstripe: LocalStripe) -> list[tuple[object, object, object]]:
    found = localstripe.http.get("/v1/refunds", params={"limit": 100}).json()["data"]
    return sorted((r["amount"], r["status"], r["payment_intent"]) for r in found)


def test_a_paid_invoice_is_refunded_in_part_then_in_full_and_never_more(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    invoice = account["invoice"]
    (paid,) = localstripe.payment_intents()

    part = refund(client, operator_key, invoice["id"], {"amount": "12.00"}, "refund-1")
    again = refund(client, operator_key, invoice["id"], {"amount": "12.00"}, "refund-1")
    assert (part.status_code, again.status_code) == (201, 201)
    assert again.json() == part.json()
    assert {k: part.json()[k] for k in ("amount", "currency", "status")} == {
        "amount": "12.00", "currency": "USD", "status": "succeeded"}
    assert part.json()["invoice"]["status"] == "paid"
    assert stripe_refunds(localstripe) == [(1200, "succeeded", paid["id"])]

    too_much = refund(client, operator_key, invoice["id"], {"amount": "40.00"})
    assert (too_much.status_code, too_much.json()["field"], too_much.json()["detail"]) == (
        422, "amount", "at most 37.00 USD can be refunded: 49.00 was paid and 12.00 refunded "
                       "already")
    nothing = refund(client, operator_key, invoice["id"], {"amount": "0.00"})
    assert (nothing.status_code, nothing.json()["field"]) == (422, "amount")

    rest = refund(client, operator_key, invoice["id"])
    assert (rest.status_code, rest.json()["amount"]) == (201, "37.00")
    assert rest.json()["invoice"]["status"] == "refunded"
    assert get(client, operator_key, f"/invoices/{invoice['id']}")["status"] == "refunded"
    assert stripe_refunds(localstripe) == [(1200, "succeeded", paid["id"]),
                                           (3700, "succeeded", paid["id"])]

    done = refund(client, operator_key, invoice["id"])
    assert (done.status_code, done.json()["detail"]) == (
        409, f"Invoice {invoice['number']} is refunded in full already.")
    assert len(stripe_refunds(localstripe)) == 2


def test_only_staff_refund(client: TestClient, operator_key: str, services: Services,
                           localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    own = refund(client, account_key(services, account["id"]), account["invoice"]["id"])
    assert own.status_code == 403
    assert stripe_refunds(localstripe) == []
