"""`GET`/`PUT /api/v1/accounts/{id}/billing-details` (SPEC §7, §8) and billing details at
sign-up: the SPEC's shape, VIES's answer, every wrong field named in one 422."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from canone.services import apikeys
from canone.services.context import Services

from .conftest import API, START, bearer, sign_up, signup_body

OFFICINA = {"kind": "business", "legal_name": "Officina Verde S.r.l.",
            "address": {"street": "Via Torino 10", "postcode": "20123", "city": "Milano",
                        "province": "mi", "country": "IT"},
            "vat_id": "00743110157", "sdi_code": "m5uxcr1",
            "pec": "amministrazione@pec.officinaverde.it"}
NORDWIND = {"kind": "business", "legal_name": "Nordwind Handel GmbH",
            "address": {"street": "Unter den Linden 5", "postcode": "10117", "city": "Berlin",
                        "country": "DE"},
            "vat_id": "DE 136 695 976"}
CHECKSUM = "(the number's checksum or check digit is invalid)"


def put(client: TestClient, key: str, account_id: str, body: Any) -> Any:
    return client.put(f"{API}/accounts/{account_id}/billing-details", json=body,
                      headers=bearer(key))


def test_none_saved_yet_is_404(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    response = client.get(f"{API}/accounts/{account['id']}/billing-details",
                          headers=bearer(operator_key))
    assert response.status_code == 404
    assert response.json()["detail"] == f"account {account['id']} has no billing details yet"


def test_an_italian_business_is_saved_normalised_and_read_back(
        client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    saved = put(client, operator_key, account["id"], OFFICINA)
    assert saved.status_code == 200, saved.text
    expected = {"kind": "business", "legal_name": "Officina Verde S.r.l.",
                "address": {"street": "Via Torino 10", "postcode": "20123",
                            "city": "Milano", "province": "MI", "country": "IT"},
                "vat_id": "IT00743110157", "tax_code": None, "sdi_code": "M5UXCR1",
                "pec": "amministrazione@pec.officinaverde.it", "vies": None,
                "updated_at": "2026-04-01T08:00:00Z"}
    assert saved.json() == expected
    read = client.get(f"{API}/accounts/{account['id']}/billing-details",
                      headers=bearer(operator_key))
    assert read.json() == expected


def test_a_german_business_gets_vies_answer_with_its_date(
        client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    saved = put(client, operator_key, account["id"], NORDWIND).json()
    assert saved["vat_id"] == "DE136695976"
    assert saved["vies"] == {"valid": True, "checked_at": START.isoformat().replace(
        "+00:00", "Z"), "name": None, "address": None, "consultation_id": None}


def test_every_wrong_field_is_named_in_one_422(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    wrong = {**OFFICINA, "vat_id": "IT00743110158", "sdi_code": "ABC",
             "address": {**OFFICINA["address"], "province": "XX"}}
    response = put(client, operator_key, account["id"], wrong)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:canone:problem:invalid_field"
    assert problem["field"] == "address.province"
    assert problem["errors"] == [
        {"field": "address.province",
         "message": "'XX' is not an Italian province (two letters, e.g. MI, RM)"},
        {"field": "vat_id", "message": f"not a valid partita IVA {CHECKSUM}"},
        {"field": "sdi_code",
         "message": "must be the 7 letters and digits SDI gave the business"}]
    assert client.get(f"{API}/accounts/{account['id']}/billing-details",
                      headers=bearer(operator_key)).status_code == 404


def test_an_italian_consumer_needs_a_valid_codice_fiscale(
        client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    consumer = {"kind": "consumer", "legal_name": "Maria Rossi",
                "address": {"street": "Via Roma 1", "postcode": "00184", "city": "Roma",
                            "province": "RM", "country": "IT"}}
    missing = put(client, operator_key, account["id"], consumer)
    assert missing.json()["errors"] == [
        {"field": "tax_code", "message": "is required for an Italian consumer (codice fiscale)"}]
    saved = put(client, operator_key, account["id"], {**consumer,
                                                       "tax_code": "rssmra85t10a562s"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["tax_code"] == "RSSMRA85T10A562S"


def test_a_shape_error_names_the_field(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    response = put(client, operator_key, account["id"], {**NORDWIND, "kind": "company"})
    assert response.status_code == 422
    assert response.json()["field"] == "kind"


def test_the_account_key_saves_and_another_accounts_key_gets_404(
        client: TestClient, operator_key: str, services: Services) -> None:
    mine = sign_up(client, operator_key)
    theirs = sign_up(client, operator_key, email="bob@example.com")
    key = apikeys.create(services, "host app", mine["id"], test_mode=True).secret
    assert put(client, key, mine["id"], NORDWIND).status_code == 200
    for response in (put(client, key, theirs["id"], NORDWIND),
                     client.get(f"{API}/accounts/{theirs['id']}/billing-details",
                                headers=bearer(key))):
        assert response.status_code == 404
        assert response.json()["detail"] == f"no account {theirs['id']}"


def test_sign_up_takes_billing_details(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key, currency="EUR", billing_details=NORDWIND,
                      subscription={**signup_body()["subscription"], "currency": "EUR"})
    read = client.get(f"{API}/accounts/{account['id']}/billing-details",
                      headers=bearer(operator_key)).json()
    assert read["legal_name"] == "Nordwind Handel GmbH"
    assert read["vies"]["valid"] is True


def test_sign_up_names_wrong_billing_fields_and_creates_nothing(
        client: TestClient, operator_key: str) -> None:
    wrong = {**NORDWIND, "vat_id": "DE136695977"}
    response = client.post(f"{API}/accounts", headers=bearer(operator_key),
                           json=signup_body(email="kai@nordwind.example",
                                            billing_details=wrong))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "billing_details.vat_id", "message": f"not a valid DE VAT id {CHECKSUM}"}]
    listed = client.get(f"{API}/accounts", params={"q": "kai@nordwind"},
                        headers=bearer(operator_key)).json()
    assert listed["data"] == []
