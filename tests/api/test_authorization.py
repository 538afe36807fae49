"""Who may call what: every endpoint × (no key, another account's key, the account's own
key, an operator key). Another account's resources answer 404, so ids do not leak."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canone.integrations.einvoice.fatturapa import FatturaPaBuilder
from canone.integrations.einvoice.folder import FolderOutbox
from canone.integrations.einvoice.rates import load_rates
from canone.services import apikeys
from canone.services.context import Services
from canone.services.credit_notes import credit_gross
from canone.services.documents import REFUND
from canone.services.einvoicing import EInvoicing
from canone.services.sellers import seller_in_effect

from .conftest import API, account_key, bearer, config, sign_up, signup_body

WHO = ("none", "other", "own", "operator")


@dataclass
class World:
    client: TestClient
    operator: str
    account: str  # account A, whose resources every row addresses
    invoice: str
    request: str
    keys: dict[str, str | None] = field(default_factory=dict)
    credit_note: str = "cn_0"

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self.client.post(f"{API}{path}", json=body, headers=bearer(self.operator))
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        return result

    def token(self, target: dict[str, Any]) -> str:
        quote = self.post(f"/accounts/{self.account}/subscription/preview", {"target": target})
        token: str = quote["quote_token"]
        return token


Body = Callable[[World], Any] | None
Prepare = Callable[[World], None] | None


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # {a}: account A, {i}: its invoice, {r}: its change request, {c}: a credit note
    expected: tuple[int, int, int, int]  # for WHO
    body: Body = None
    prepare: Prepare = None


def _schedule_reduction(w: World) -> None:
    w.post(f"/accounts/{w.account}/subscription/confirm",
           {"quote_token": w.token(config(contacts=1000))})


def _cancel(w: World) -> None:
    w.post(f"/accounts/{w.account}/subscription/cancel")


def _save_billing_details(w: World) -> None:
    response = w.client.put(f"{API}/accounts/{w.account}/billing-details",
                            json=BILLING_DETAILS, headers=bearer(w.operator))
    assert response.status_code == 200, response.text


BILLING_DETAILS = {"kind": "business", "legal_name": "Nordwind Handel GmbH",
                   "address": {"street": "Unter den Linden 5", "postcode": "10117",
                               "city": "Berlin", "country": "DE"},
                   "vat_id": "DE136695976"}
CARD = {"number": "4242424242424242", "exp_month": 6, "exp_year": 2031, "cvc": "321"}

ROWS = [
    Row("catalog", "GET", "/catalog", (401, 200, 200, 200)),
    Row("sign up", "POST", "/accounts", (401, 403, 403, 201),
        body=lambda w: signup_body(email="new@example.com", billing_details=BILLING_DETAILS)),
    Row("list accounts", "GET", "/accounts", (401, 200, 200, 200)),
    Row("account", "GET", "/accounts/{a}", (401, 404, 200, 200)),
    Row("payment method", "PUT", "/accounts/{a}/payment-method", (401, 404, 200, 200),
        body=lambda w: CARD),
    # Stripe's alone: with the sandbox, those allowed are told it is for Stripe (409).
    Row("setup intent", "POST", "/accounts/{a}/setup-intents", (401, 404, 409, 409)),
    Row("billing details", "GET", "/accounts/{a}/billing-details", (401, 404, 200, 200),
        prepare=_save_billing_details),
    Row("save billing details", "PUT", "/accounts/{a}/billing-details", (401, 404, 200, 200),
        body=lambda w: BILLING_DETAILS),
    Row("auto-upgrade", "PUT", "/accounts/{a}/auto-upgrade", (401, 404, 200, 200),
        body=lambda w: {"enabled": True}),
    Row("subscription", "GET", "/accounts/{a}/subscription", (401, 404, 200, 200)),
    Row("preview", "POST", "/accounts/{a}/subscription/preview", (401, 404, 200, 200),
        body=lambda w: {"target": config(contacts=2500, seats=2)}),
    Row("confirm", "POST", "/accounts/{a}/subscription/confirm", (401, 404, 200, 200),
        body=lambda w: {"quote_token": w.token(config(contacts=2500, seats=2))}),
    Row("drop pending", "DELETE", "/accounts/{a}/subscription/pending", (401, 404, 200, 200),
        prepare=_schedule_reduction),
    Row("cancel", "POST", "/accounts/{a}/subscription/cancel", (401, 404, 200, 200)),
    Row("resume", "POST", "/accounts/{a}/subscription/resume", (401, 404, 200, 200),
        prepare=_cancel),
    Row("create request", "POST", "/accounts/{a}/change-requests", (401, 404, 201, 201),
        body=lambda w: {"message": "Could we get a discount?"}),
    Row("account's requests", "GET", "/accounts/{a}/change-requests", (401, 404, 200, 200)),
    Row("request queue", "GET", "/change-requests", (401, 403, 403, 200)),
    Row("request", "GET", "/change-requests/{r}", (401, 404, 200, 200)),
    Row("take request", "POST", "/change-requests/{r}/transitions", (401, 404, 403, 200),
        body=lambda w: {"to": "in_progress"}),
    Row("withdraw request", "POST", "/change-requests/{r}/transitions", (401, 404, 200, 200),
        body=lambda w: {"to": "withdrawn"}),
    Row("invoices", "GET", "/accounts/{a}/invoices", (401, 404, 200, 200)),
    Row("invoice", "GET", "/invoices/{i}", (401, 404, 200, 200)),
    Row("invoice pdf", "GET", "/invoices/{i}/pdf", (401, 404, 200, 200)),
    Row("pay invoice", "POST", "/invoices/{i}/pay", (401, 404, 200, 200)),
    Row("refund invoice", "POST", "/invoices/{i}/refunds", (401, 404, 403, 201),
        body=lambda w: {"amount": "1.00"}),
    Row("ledger", "GET", "/accounts/{a}/ledger", (401, 404, 200, 200)),
    Row("invoice e-invoice", "GET", "/invoices/{i}/fatturapa.xml", (401, 404, 200, 200)),
    Row("credit notes", "GET", "/accounts/{a}/credit-notes", (401, 404, 200, 200)),
    Row("credit note", "GET", "/accounts/{a}/credit-notes/{c}", (401, 404, 200, 200)),
    Row("credit note pdf", "GET", "/accounts/{a}/credit-notes/{c}/pdf", (401, 404, 200, 200)),
    Row("credit note e-invoice", "GET", "/accounts/{a}/credit-notes/{c}/fatturapa.xml",
        (401, 404, 200, 200)),
    Row("usage", "PUT", "/accounts/{a}/usage", (401, 404, 200, 200),
        body=lambda w: {"contacts": 100, "active_users": 1}),
    Row("entitlements", "GET", "/accounts/{a}/entitlements", (401, 404, 200, 200)),
    Row("register endpoint", "POST", "/webhook-endpoints", (401, 404, 201, 201),
        body=lambda w: {"url": "https://example.com/hooks", "events": ["*"],
                        "account_id": w.account}),
    Row("endpoints", "GET", "/webhook-endpoints?account_id={a}", (401, 404, 200, 200)),
    Row("deliveries", "GET", "/webhook-deliveries?account_id={a}", (401, 404, 200, 200)),
    Row("billing run", "POST", "/billing-runs", (401, 403, 403, 200), body=lambda w: {}),
    Row("test clock", "GET", "/test-clock", (401, 403, 403, 200)),
    Row("move test clock", "POST", "/test-clock", (401, 403, 403, 200),
        body=lambda w: {"now": "2026-04-02T00:00:00Z"}),
]

@pytest.fixture
def services(services: Services, tmp_path: Path) -> Services:
    """A seller that files e-invoices: every document has its FatturaPA file to ask for."""
    seller = seller_in_effect(None)
    rates = load_rates(None)
    return dataclasses.replace(services, seller=seller, einvoicing=EInvoicing(
        seller, FatturaPaBuilder(rates), FolderOutbox(tmp_path / "sdi"), rates))


def make_world(client: TestClient, services: Services, operator: str, who: str) -> World:
    if who == "none":  # answered before anything is looked up
        return World(client, operator, "acc_0", "inv_0", "req_0", {"none": None})
    a = sign_up(client, operator, subscription=config(contacts=2500),
                billing_details=BILLING_DETAILS)
    world = World(client, operator, a["id"], a["invoice"]["id"], "")
    with services.database.transaction() as store:
        invoice = store.invoices.get(world.invoice)
        assert invoice is not None
        world.credit_note = credit_gross(services, store, invoice, 100, REFUND).id
    world.request = world.post(f"/accounts/{a['id']}/change-requests",
                               {"desired": config(tier="starter", contacts=2500),
                                "message": "Downgrade please"})["id"]
    world.keys = {"own": account_key(services, a["id"]), "operator": operator}
    if who == "other":
        b = sign_up(client, operator, email="bob@example.com", billing_details=BILLING_DETAILS)
        world.keys["other"] = account_key(services, b["id"])
    return world


def call(world: World, row: Row, who: str) -> tuple[int, str]:
    """Prepare the state the row needs, call it as `who`; the status and the body."""
    if row.prepare is not None and who in ("own", "operator"):
        row.prepare(world)
    path = API + row.path.format(a=world.account, i=world.invoice, r=world.request,
                                 c=world.credit_note)
    body = row.body(world) if row.body is not None and who != "none" else None
    response = world.client.request(row.method, path, json=body,
                                    headers=bearer(world.keys[who]))
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["x-content-type-options"] == "nosniff"
    if response.status_code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code, response.text


@pytest.mark.parametrize("who", ["none", "other"])
def test_without_a_key_or_with_another_accounts_key(client: TestClient, services: Services,
                                                    operator_key: str, who: str) -> None:
    """No key: 401 everywhere. Another account's key: A's resources are 404 and staff
    actions 403; nothing of A changes (so one world serves every row)."""
    world = make_world(client, services, operator_key, who)
    column = WHO.index(who)

    got = {row.name: call(world, row, who)[0] for row in ROWS}

    assert got == {row.name: row.expected[column] for row in ROWS}


@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in ROWS])
@pytest.mark.parametrize("who", ["own", "operator"])
def test_with_the_accounts_own_key_or_an_operator_key(
        client: TestClient, services: Services, operator_key: str, row: Row, who: str) -> None:
    world = make_world(client, services, operator_key, who)

    status, text = call(world, row, who)

    assert status == row.expected[WHO.index(who)], text


def test_the_matrix_covers_every_api_operation(app: FastAPI) -> None:
    operations = {(method.upper(), path) for path, item in app.openapi()["paths"].items()
                  if path.startswith(API) for method in item}
    covered = {(row.method, API + row.path.split("?")[0]
                .replace("{a}", "{account_id}").replace("{i}", "{invoice_id}")
                .replace("{r}", "{request_id}").replace("{c}", "{credit_note_id}"))
               for row in ROWS}

    assert operations == covered


@pytest.mark.parametrize("header", [
    "Bearer ck_test_not-a-key", "Bearer", "Basic dXNlcjpwYXNz", "ck_test_abc", "Bearer  ",
])
def test_bad_keys_are_401(client: TestClient, header: str) -> None:
    response = client.get(f"{API}/catalog", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json()["type"] == "urn:canone:problem:unauthorized"


def test_a_revoked_key_is_401(client: TestClient, services: Services) -> None:
    created = apikeys.create(services, "temporary", None, test_mode=True)
    assert client.get(f"{API}/catalog", headers=bearer(created.secret)).status_code == 200

    apikeys.revoke(services, created.key.id)

    assert client.get(f"{API}/catalog", headers=bearer(created.secret)).status_code == 401


def test_the_test_clock_is_404_outside_test_mode(services: Services, operator_key: str) -> None:
    from canone.settings import Settings
    from canone.web.app import create_app

    app = create_app(Settings(database_url="unused://", test_mode=False), services)
    with TestClient(app) as client:
        response = client.post(f"{API}/test-clock", json={"now": "2030-01-01T00:00:00Z"},
                               headers=bearer(operator_key))
        assert response.status_code == 404
        assert client.get(f"{API}/test-clock", headers=bearer(operator_key)).status_code == 404


def test_a_key_revoked_by_another_process_stops_working_within_the_cache_window(
        client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(apikeys, "CACHE_SECONDS", 0.2)
    created = apikeys.create(services, "temporary", None, test_mode=True)
    assert client.get(f"{API}/catalog", headers=bearer(created.secret)).status_code == 200
    with services.database.transaction() as store:  # as `canone apikey revoke` elsewhere
        store.access.save_api_key(created.key.__class__(**{**created.key.__dict__,
                                                            "revoked": True}))

    time.sleep(0.3)

    assert client.get(f"{API}/catalog", headers=bearer(created.secret)).status_code == 401
