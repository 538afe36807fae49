"""The API's previews and invoices carry SPEC §8's tax: `tax`, `total_due_now`, the credit
applied and the amount charged; invoices with `subtotal`, `tax_lines`, a gross `total` and
their parties as issued. A changed tax situation after the preview is a 409."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canone.services.context import Services
from canone.services.sellers import seller_in_effect

from .conftest import API, bearer, config, move_clock, sign_up

ITALIAN_BUSINESS = {
    "kind": "business", "legal_name": "Officina Verde S.r.l.",
    "address": {"street": "Via Tortona 27", "postcode": "20144", "city": "Milano",
                "province": "MI", "country": "IT"},
    "vat_id": "IT05182730159", "sdi_code": "KRX5Q7A"}
GERMAN_BUSINESS = {
    "kind": "business", "legal_name": "Lumen Analytics GmbH",
    "address": {"street": "Torstraße 109", "postcode": "10119", "city": "Berlin",
                "country": "DE"},
    "vat_id": "DE814937267"}


@pytest.fixture
def services(services: Services) -> Services:
    """The API's services with the demo seller: documents are taxed."""
    return dataclasses.replace(services, seller=seller_in_effect(None))


def _preview_enterprise(client: TestClient, key: str) -> tuple[str, dict[str, Any]]:
    account = sign_up(client, key, currency="EUR", subscription=config(currency="EUR"),
                      billing_details=ITALIAN_BUSINESS)
    move_clock(client, key, "2026-04-16T08:00:00Z")
    response = client.post(f"{API}/accounts/{account['id']}/subscription/preview",
                           json={"target": config(currency="EUR", tier="enterprise")},
                           headers=bearer(key))
    assert response.status_code == 200, response.text
    return account["id"], response.json()


def test_the_48_upgrade_of_an_italian_business_is_58_56_due_today(client, operator_key) -> None:
    account_id, preview = _preview_enterprise(client, operator_key)

    assert preview["change"]["due_now"] == "48.00"  # SPEC §4's net amount, unchanged
    assert preview["tax"] == {"rule": "domestic", "rate": "22.00", "country": "IT",
                              "taxable": "48.00", "amount": "10.56", "note": "VAT 22 %"}
    assert (preview["total_due_now"], preview["credit_applied"],
            preview["amount_due_now"]) == ("58.56", "0.00", "58.56")

    response = client.post(f"{API}/accounts/{account_id}/subscription/confirm",
                           json={"quote_token": preview["quote_token"]},
                           headers=bearer(operator_key))

    assert response.status_code == 200, response.text
    invoice = response.json()["invoice"]
    assert (invoice["subtotal"], invoice["total"], invoice["amount_paid"],
            invoice["amount_due"]) == ("48.00", "58.56", "58.56", "0.00")
    assert invoice["tax_lines"] == [preview["tax"]]
    assert invoice["issued_on"] == "2026-04-16"
    assert invoice["customer"]["legal_name"] == "Officina Verde S.r.l."
    assert invoice["customer"]["vat_id"] == "IT05182730159"
    assert invoice["seller"]["vat_id"] == "IT12345670017"
    listed = client.get(f"{API}/invoices/{invoice['id']}", headers=bearer(operator_key))
    assert listed.json() == invoice


def test_the_sign_up_invoice_is_gross(client, operator_key) -> None:
    account = sign_up(client, operator_key, currency="EUR", subscription=config(currency="EUR"),
                      billing_details=ITALIAN_BUSINESS)
    invoices = client.get(f"{API}/accounts/{account['id']}/invoices",
                          headers=bearer(operator_key)).json()["data"]
    assert [(i["subtotal"], i["total"], i["amount_paid"]) for i in invoices] == [
        ("49.00", "59.78", "59.78")]


def test_new_billing_details_after_the_preview_make_the_quote_stale(client,
                                                                    operator_key) -> None:
    account_id, preview = _preview_enterprise(client, operator_key)
    saved = client.put(f"{API}/accounts/{account_id}/billing-details", json=GERMAN_BUSINESS,
                       headers=bearer(operator_key))
    assert saved.status_code == 200, saved.text

    response = client.post(f"{API}/accounts/{account_id}/subscription/confirm",
                           json={"quote_token": preview["quote_token"]},
                           headers=bearer(operator_key))

    assert response.status_code == 409
    assert response.json()["type"] == "urn:canone:problem:stale_quote"
    again = client.post(f"{API}/accounts/{account_id}/subscription/preview",
                        json={"target": config(currency="EUR", tier="enterprise")},
                        headers=bearer(operator_key)).json()
    assert again["tax"]["rule"] == "reverse_charge" and again["total_due_now"] == "48.00"
