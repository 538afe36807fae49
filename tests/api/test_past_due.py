"""A past-due account over the API: purchases are refused with a problem naming the open
invoice (409), and the invoice is paid with `POST /invoices/{id}/pay`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from canone.services.context import Services
from canone.services.ports import SUCCEEDED

from .conftest import API, bearer, config, move_clock, sign_up


def _past_due(client: TestClient, operator_key: str) -> tuple[str, dict[str, str]]:
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    card = client.put(f"{API}/accounts/{account['id']}/payment-method", headers=key, json={
        "number": "4000000000000002", "exp_month": 12, "exp_year": 2030, "cvc": "123"})
    assert card.status_code == 200, card.text
    for day in ("01", "03", "05", "07"):
        move_clock(client, operator_key, f"2026-05-{day}T09:00:00Z")
        assert client.post(f"{API}/billing-runs", json={}, headers=key).status_code == 200
    sub = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key).json()
    assert sub["status"] == "past_due"
    return account["id"], key


def test_a_past_due_account_is_refused_purchases_then_pays_now(
        client: TestClient, operator_key: str, services: Services) -> None:
    account_id, key = _past_due(client, operator_key)
    owed = client.get(f"{API}/accounts/{account_id}/invoices", headers=key).json()["data"][0]
    assert (owed["status"], owed["number"]) == ("open", "2026-000002")

    refused = client.post(f"{API}/accounts/{account_id}/subscription/preview", headers=key,
                          json={"target": config(tier="pro")})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:canone:problem:account_restricted"
    assert refused.json()["detail"] == (
        "The account is past due: pay 2026-000002 (49.00 USD) first. New purchases are "
        "blocked until it is paid.")

    declined = client.post(f"{API}/invoices/{owed['id']}/pay", headers=key)
    assert declined.status_code == 402
    assert declined.json()["decline_code"] == "declined"

    with services.gateway._transaction() as db:  # type: ignore[attr-defined]
        db.execute("UPDATE cards SET behaviour = ?", (SUCCEEDED,))  # the bank lifts its block
    paid = client.post(f"{API}/invoices/{owed['id']}/pay", headers=key)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["amount_paid"]) == ("paid", "49.00")
    sub = client.get(f"{API}/accounts/{account_id}/subscription", headers=key).json()
    assert sub["status"] == "active"
    again = client.post(f"{API}/accounts/{account_id}/subscription/preview", headers=key,
                        json={"target": config(tier="pro")})
    assert again.status_code == 200 and again.json()["quote_token"]
