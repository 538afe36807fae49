"""The API's main flows, with exact amounts (SPEC §4, §5, §7)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from canone.services.context import Services

from .conftest import (
    API,
    account_key,
    bearer,
    config,
    move_clock,
    quote_token,
    sign_up,
    signup_body,
)


def test_sign_up_charges_the_full_first_period(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)

    assert account["id"].startswith("acc_")
    assert account["status"] == "active"
    assert account["card"] == {"brand": "visa", "last4": "4242", "exp_month": 12,
                               "exp_year": 2030}
    assert account["subscription"]["period"] == {"start": "2026-04-01", "end": "2026-05-01"}
    assert account["subscription"]["configuration"] == config()
    invoice = account["invoice"]
    assert invoice["number"] == "2026-000001"
    assert invoice["kind"] == "signup"
    assert invoice["lines"] == [{"key": "base", "description": invoice["lines"][0]["description"],
                                 "amount": "49.00"}]
    assert (invoice["total"], invoice["credit_applied"], invoice["amount_paid"],
            invoice["amount_due"], invoice["status"]) == ("49.00", "0.00", "49.00", "0.00",
                                                          "paid")
    again = client.get(f"{API}/accounts/{account['id']}", headers=bearer(operator_key))
    assert again.status_code == 200
    assert again.json()["name"] == "Acme"


def test_a_declined_card_creates_nothing(client: TestClient, operator_key: str) -> None:
    response = client.post(f"{API}/accounts", json=signup_body(card="4000000000000002"),
                           headers=bearer(operator_key))

    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:canone:problem:payment_failed"
    listed = client.get(f"{API}/accounts", headers=bearer(operator_key)).json()
    assert listed == {"data": [], "has_more": False, "next_cursor": None}


def test_preview_and_confirm_the_spec_example(client: TestClient, operator_key: str) -> None:
    """Marketing plus → enterprise at 1,000 contacts on day 16 of a 30-day period:
    −24.50 + 72.50 = 48.00 due now, then 145.00 from the next period."""
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")

    preview = client.post(f"{API}/accounts/{account['id']}/subscription/preview",
                          json={"target": config(tier="enterprise")}, headers=key)

    assert preview.status_code == 200, preview.text
    change = preview.json()["change"]
    assert change["kind"] == "upgrade"
    assert change["period"] == {"start": "2026-04-01", "end": "2026-05-01", "days": 30}
    assert change["remaining_days"] == 15
    assert [(line["key"], line["amount"]) for line in change["lines"]] == [
        ("base", "-24.50"), ("base", "72.50")]
    assert (change["due_now"], change["credit"]) == ("48.00", "0.00")
    assert "sso" in change["features_gained"] and change["features_lost"] == []
    assert preview.json()["target"]["total"] == "145.00"

    confirm = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                          json={"quote_token": preview.json()["quote_token"]}, headers=key)

    assert confirm.status_code == 200, confirm.text
    invoice = confirm.json()["invoice"]
    assert (invoice["number"], invoice["kind"], invoice["total"], invoice["amount_paid"]) == (
        "2026-000002", "upgrade", "48.00", "48.00")
    subscription = confirm.json()["subscription"]
    assert subscription["configuration"]["tier"] == "enterprise"
    assert subscription["version"] == account["subscription"]["version"] + 1
    listed = client.get(f"{API}/accounts/{account['id']}/invoices", headers=key).json()
    assert [i["total"] for i in listed["data"]] == ["48.00", "49.00"]


def test_confirming_twice_returns_the_first_result_and_charges_once(
        client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    token = quote_token(client, key, account["id"], config(tier="enterprise"))

    first = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                        json={"quote_token": token}, headers=key)
    second = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                         json={"quote_token": token}, headers=key)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    invoices = client.get(f"{API}/accounts/{account['id']}/invoices", headers=key).json()
    assert [i["total"] for i in invoices["data"]] == ["48.00", "49.00"]


def test_a_quote_from_yesterday_is_stale(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    token = quote_token(client, key, account["id"], config(tier="enterprise"))
    move_clock(client, operator_key, "2026-04-17T08:00:00Z")

    response = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                           json={"quote_token": token}, headers=key)

    assert response.status_code == 409
    assert response.json()["type"] == "urn:canone:problem:stale_quote"
    assert response.json()["detail"] == "The price changed, please review again."
    subscription = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key)
    assert subscription.json()["configuration"]["tier"] == "plus"


def test_a_declined_upgrade_changes_nothing(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    card = client.put(f"{API}/accounts/{account['id']}/payment-method", headers=key,
                      json={"number": "4000000000000002", "exp_month": 1, "exp_year": 2031,
                            "cvc": "999"})
    assert card.status_code == 200, card.text
    before = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key).json()
    token = quote_token(client, key, account["id"], config(seats=3))

    response = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                           json={"quote_token": token}, headers=key)

    assert response.status_code == 402
    assert response.json()["type"] == "urn:canone:problem:payment_failed"
    assert response.json()["decline_code"] == "declined"
    after = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key).json()
    assert after == before
    invoices = client.get(f"{API}/accounts/{account['id']}/invoices", headers=key).json()
    assert len(invoices["data"]) == 1


def test_a_reduction_is_scheduled_and_can_be_dropped(client: TestClient,
                                                     operator_key: str) -> None:
    account = sign_up(client, operator_key, subscription=config(contacts=2500))
    key = bearer(operator_key)
    preview = client.post(f"{API}/accounts/{account['id']}/subscription/preview",
                          json={"target": config(contacts=1000)}, headers=key).json()
    assert preview["change"]["kind"] == "scheduled"

    confirmed = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                            json={"quote_token": preview["quote_token"]}, headers=key).json()

    assert confirmed["invoice"] is None
    assert confirmed["subscription"]["pending"] == config(contacts=1000)
    dropped = client.delete(f"{API}/accounts/{account['id']}/subscription/pending", headers=key)
    assert dropped.status_code == 200
    assert dropped.json()["pending"] is None
    again = client.delete(f"{API}/accounts/{account['id']}/subscription/pending", headers=key)
    assert again.status_code == 409


def test_cancel_at_period_end_and_resume(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    path = f"{API}/accounts/{account['id']}/subscription"

    cancelled = client.post(f"{path}/cancel", json={"reason": "too expensive"}, headers=key)
    assert cancelled.status_code == 200
    assert cancelled.json()["cancel_at_period_end"] is True
    assert client.post(f"{path}/cancel", headers=key).status_code == 409
    resumed = client.post(f"{path}/resume", headers=key)
    assert resumed.status_code == 200
    assert resumed.json()["cancel_at_period_end"] is False


def test_a_request_only_change_gets_no_quote(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    preview = client.post(f"{API}/accounts/{account['id']}/subscription/preview",
                          json={"target": config(tier="starter")}, headers=bearer(operator_key))

    assert preview.status_code == 200
    assert preview.json()["change"]["kind"] == "request"
    assert preview.json()["change"]["reasons"] == ["tier_lower"]
    assert preview.json()["quote_token"] is None


def test_change_request_lifecycle_applied_now_credits_the_ledger(
        client: TestClient, operator_key: str, services: Services) -> None:
    account = sign_up(client, operator_key)
    own = bearer(account_key(services, account["id"]))
    staff = bearer(operator_key)
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")

    created = client.post(f"{API}/accounts/{account['id']}/change-requests", headers=own,
                          json={"desired": config(tier="starter"), "reason": "fewer features",
                                "message": "Please move us to Starter."})
    assert created.status_code == 201, created.text
    request = created.json()
    assert (request["status"], request["source"], request["verified"]) == ("open", "api", True)
    path = f"{API}/change-requests/{request['id']}/transitions"
    refused = client.post(path, json={"to": "in_progress"}, headers=own)
    assert refused.status_code == 403

    taken = client.post(path, json={"to": "in_progress", "message": "On it"}, headers=staff)
    assert taken.status_code == 200
    done = client.post(path, json={"to": "completed", "effective": "now"}, headers=staff)

    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["effective"] == "now"
    assert [e["to_status"] for e in done.json()["history"]] == ["open", "in_progress",
                                                                  "completed"]
    subscription = client.get(f"{API}/accounts/{account['id']}/subscription", headers=own)
    assert subscription.json()["configuration"]["tier"] == "starter"
    # 15 of 30 days left: −24.50 for plus, +7.50 for starter → 17.00 credited.
    ledger = client.get(f"{API}/accounts/{account['id']}/ledger", headers=own).json()
    assert ledger["balance"] == "17.00"
    assert [e["amount"] for e in ledger["entries"]] == ["17.00"]
    assert client.post(path, json={"to": "declined"}, headers=staff).status_code == 409
    listed = client.get(f"{API}/accounts/{account['id']}/change-requests", headers=own).json()
    assert [r["id"] for r in listed["data"]] == [request["id"]]
    queue = client.get(f"{API}/change-requests?status=completed", headers=staff).json()
    assert [r["id"] for r in queue["data"]] == [request["id"]]


def test_a_request_applied_at_period_end_is_scheduled(client: TestClient, operator_key: str,
                                                      services: Services) -> None:
    account = sign_up(client, operator_key)
    own = bearer(account_key(services, account["id"]))
    request = client.post(f"{API}/accounts/{account['id']}/change-requests", headers=own,
                          json={"desired": config(tier="starter"), "reason": "",
                                "message": ""}).json()

    done = client.post(f"{API}/change-requests/{request['id']}/transitions",
                       json={"to": "completed"}, headers=bearer(operator_key))

    assert done.json()["effective"] == "period_end"
    subscription = client.get(f"{API}/accounts/{account['id']}/subscription", headers=own)
    assert subscription.json()["pending"] == config(tier="starter")
    withdrawn = client.post(f"{API}/accounts/{account['id']}/change-requests", headers=own,
                            json={"message": "Actually, could we talk about SMS?"}).json()
    moved = client.post(f"{API}/change-requests/{withdrawn['id']}/transitions",
                        json={"to": "withdrawn"}, headers=own)
    assert moved.status_code == 200
    assert moved.json()["status"] == "withdrawn"


def test_usage_and_entitlements(client: TestClient, operator_key: str,
                                services: Services) -> None:
    account = sign_up(client, operator_key)
    own = bearer(account_key(services, account["id"]))

    reported = client.put(f"{API}/accounts/{account['id']}/usage", headers=own,
                          json={"contacts": 910, "active_users": 1})

    assert reported.status_code == 200, reported.text
    assert reported.json()["thresholds_reached"] == [75, 90]
    assert reported.json()["auto_upgraded_to"] is None
    again = client.put(f"{API}/accounts/{account['id']}/usage", headers=own,
                       json={"contacts": 950, "active_users": 1})
    assert again.json()["thresholds_reached"] == []
    found = client.get(f"{API}/accounts/{account['id']}/entitlements", headers=own).json()
    assert found["limits"] == {"contacts": 1000, "seats": 1}
    assert found["usage"] == {"contacts": 950, "active_users": 1}
    assert found["restricted"] is False
    assert {"email_marketing", "landing_pages"} <= set(found["features"])
    assert "sso" not in found["features"]
    bad = client.put(f"{API}/accounts/{account['id']}/usage", headers=own,
                     json={"contacts": -1, "active_users": 1})
    assert bad.status_code == 422
    assert bad.json()["field"] == "contacts"


def test_auto_upgrade_buys_the_next_contact_step(client: TestClient, operator_key: str,
                                                 services: Services) -> None:
    account = sign_up(client, operator_key)
    own = bearer(account_key(services, account["id"]))
    on = client.put(f"{API}/accounts/{account['id']}/auto-upgrade", headers=own,
                    json={"enabled": True})
    assert on.json()["auto_upgrade"] is True

    reported = client.put(f"{API}/accounts/{account['id']}/usage", headers=own,
                          json={"contacts": 1200, "active_users": 1})

    assert reported.json()["auto_upgraded_to"] == 2500
    found = client.get(f"{API}/accounts/{account['id']}/entitlements", headers=own).json()
    assert found["limits"]["contacts"] == 2500


def test_invoice_and_its_pdf(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    invoice = client.get(f"{API}/invoices/{account['invoice']['id']}", headers=key)
    assert invoice.json() == account["invoice"]

    pdf = client.get(invoice.json()["pdf_url"], headers=key)

    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "2026-000001" in text
    assert "49.00" in text


def test_invoices_are_paginated_with_a_cursor(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key, subscription=config(seats=1))
    key = bearer(operator_key)
    for seats in (2, 3, 4):
        token = quote_token(client, key, account["id"], config(seats=seats))
        assert client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                           json={"quote_token": token}, headers=key).status_code == 200
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&starting_after={cursor}" if cursor else "")
        page = client.get(f"{API}/accounts/{account['id']}/invoices{query}", headers=key).json()
        seen += [invoice["number"] for invoice in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]

    everything = client.get(f"{API}/accounts/{account['id']}/invoices?limit=100",
                            headers=key).json()["data"]
    assert seen == [invoice["number"] for invoice in everything]  # newest first, then by id
    assert sorted(seen) == ["2026-000001", "2026-000002", "2026-000003", "2026-000004"]


def test_billing_run_renews_at_period_end(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    key = bearer(operator_key)
    move_clock(client, operator_key, "2026-05-01T08:00:00Z")

    run = client.post(f"{API}/billing-runs", json={}, headers=key)

    assert run.status_code == 200, run.text
    assert run.json()["renewed"] == 1
    subscription = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key)
    assert subscription.json()["period"] == {"start": "2026-05-01", "end": "2026-06-01"}
    invoices = client.get(f"{API}/accounts/{account['id']}/invoices", headers=key).json()
    renewal = invoices["data"][0]
    assert (renewal["kind"], renewal["total"], renewal["status"]) == ("renewal", "49.00",
                                                                      "paid")


def test_the_test_clock_only_moves_forward(client: TestClient, operator_key: str) -> None:
    key = bearer(operator_key)
    assert client.get(f"{API}/test-clock", headers=key).json() == {"now": "2026-04-01T08:00:00Z"}
    move_clock(client, operator_key, "2026-04-02T00:00:00+02:00")

    back = client.post(f"{API}/test-clock", json={"now": "2026-04-01T00:00:00Z"}, headers=key)

    assert back.status_code == 422
    assert back.json()["field"] == "now"
    assert client.get(f"{API}/test-clock", headers=key).json() == {"now": "2026-04-01T22:00:00Z"}


def test_webhook_endpoints_and_deliveries(client: TestClient, operator_key: str,
                                          services: Services) -> None:
    account = sign_up(client, operator_key)
    own = bearer(account_key(services, account["id"]))

    created = client.post(f"{API}/webhook-endpoints", headers=own,
                          json={"url": "http://127.0.0.1:9/hooks", "events": ["*"]})

    assert created.status_code == 201, created.text
    assert created.json()["secret"].startswith("whsec_")
    assert created.json()["account_id"] == account["id"]
    listed = client.get(f"{API}/webhook-endpoints", headers=own).json()
    assert [e["id"] for e in listed] == [created.json()["id"]]
    assert "secret" not in listed[0]
    client.post(f"{API}/accounts/{account['id']}/subscription/cancel", headers=own)
    deliveries = client.get(f"{API}/webhook-deliveries", headers=own).json()
    assert [d["event_type"] for d in deliveries["data"]] == ["subscription.changed"]
    assert deliveries["data"][0]["status"] == "pending"
    bad = client.post(f"{API}/webhook-endpoints", headers=own,
                      json={"url": "ftp://example.com", "events": ["*"]})
    assert (bad.status_code, bad.json()["field"]) == (422, "url")
    unknown = client.post(f"{API}/webhook-endpoints", headers=own,
                          json={"url": "https://example.com", "events": ["nope"]})
    assert (unknown.status_code, unknown.json()["field"]) == (422, "events")


def test_catalog(client: TestClient, operator_key: str) -> None:
    catalog = client.get(f"{API}/catalog", headers=bearer(operator_key)).json()

    assert catalog["contact_steps"] == [1000, 2500, 5000, 10000, 25000, 50000, 100000]
    marketing = next(p for p in catalog["products"] if p["code"] == "marketing")
    plus = next(t for t in marketing["tiers"] if t["tier"] == "plus")
    assert plus["base"] == ["49.00", "69.00", "119.00", "189.00", "369.00", "489.00", None]
    assert plus["extra_seat"] == "19.00"


def test_errors_are_problem_details_naming_the_field(client: TestClient,
                                                     operator_key: str) -> None:
    response = client.post(f"{API}/accounts", headers=bearer(operator_key),
                           json=signup_body(subscription=config(contacts=1234)))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:canone:problem:invalid_field"
    assert problem["field"] == "subscription.contacts"
    missing = client.post(f"{API}/accounts", headers=bearer(operator_key),
                          json={**signup_body(), "primary_admin": {"email": "a@b.co"}})
    assert missing.status_code == 422
    assert missing.json()["field"] == "primary_admin.name"
    assert missing.headers["x-content-type-options"] == "nosniff"
    assert missing.headers["cache-control"] == "no-store"


def test_unknown_paths_and_methods_are_problems_with_security_headers(
        client: TestClient, operator_key: str) -> None:
    unknown = client.get(f"{API}/nothing-here", headers=bearer(operator_key))
    wrong_method = client.delete(f"{API}/catalog", headers=bearer(operator_key))

    assert unknown.status_code == 404
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"
    clock = client.patch(f"{API}/test-clock", headers=bearer(operator_key))
    assert (clock.status_code, clock.headers["allow"]) == (405, "GET, POST")
    for response in (unknown, wrong_method):
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_an_unexpected_error_is_a_500_problem_without_a_traceback(
        client: TestClient, operator_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from canone.web.api import operations

    def broken(catalog: object) -> dict[str, object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(operations, "catalog_view", broken)

    response = client.get(f"{API}/catalog", headers=bearer(operator_key))

    assert response.status_code == 500
    assert response.json()["type"] == "urn:canone:problem:internal"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_card_numbers_as_people_type_them(client: TestClient, operator_key: str) -> None:
    account = sign_up(client, operator_key, card="4242 4242-4242 4242")
    assert account["card"]["last4"] == "4242"

    bad = client.post(f"{API}/accounts", headers=bearer(operator_key),
                      json=signup_body(email="eve@example.com", card="4242424242424241"))

    assert bad.status_code == 422
    assert bad.json()["field"] == "payment_method.number"


def test_stripe_only_requests_are_refused_with_the_sandbox(client: TestClient,
                                                           operator_key: str) -> None:
    account = sign_up(client, operator_key)
    setup = client.post(f"{API}/accounts/{account['id']}/setup-intents",
                        headers=bearer(operator_key))
    assert setup.status_code == 409
    assert setup.json()["type"] == "urn:canone:problem:wrong_payment_provider"
    assert "for Stripe" in setup.json()["detail"]
    method = client.put(f"{API}/accounts/{account['id']}/payment-method",
                        json={"stripe_payment_method": "pm_card_visa"},
                        headers=bearer(operator_key))
    assert method.status_code == 422
    assert method.json()["field"] == "payment_method.stripe_payment_method"
    missing = client.put(f"{API}/accounts/{account['id']}/payment-method",
                         json={"number": "4242424242424242", "exp_month": 12, "cvc": "123"},
                         headers=bearer(operator_key))
    assert (missing.status_code, missing.json()["field"]) == (422, "payment_method.exp_year")
