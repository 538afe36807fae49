"""A quote token signed with the right secret (leaked, say) still cannot buy what the
catalog does not sell: confirmation checks the quoted target again (issue: default secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canone.billing.catalog import default_catalog
from canone.billing.changes import plan_change
from canone.billing.codec import config_from_json, config_to_json
from canone.billing.money import to_minor
from canone.services.context import Services

from .conftest import API, SECRET, bearer, config, move_clock, quote_token, sign_up


def claims_of(token: str) -> dict[str, Any]:
    body = token.split(".")[0]
    found: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return found


def forge(claims: dict[str, Any], secret: str) -> str:
    """A token as canone signs one: base64 JSON claims and their HMAC-SHA256."""
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()[:32]
    return f"{body.decode().rstrip('=')}.{mac}"


def forged_quote(genuine: str, current: dict[str, Any], target: dict[str, Any]) -> str:
    """A genuine quote's claims with another target, priced as canone would price it."""
    claims = claims_of(genuine)
    change = plan_change(default_catalog(), config_from_json(current, "current"),
                         config_from_json(target, "target"), date(2026, 4, 1),
                         date.fromisoformat(claims["day"]))
    assert change.kind == "upgrade" and change.due_now > 0  # what would be charged
    return forge({**claims, "target": target, "immediate": config_to_json(change.immediate),
                  "due": to_minor(change.due_now)}, SECRET)


@pytest.mark.parametrize(("plan", "target", "problem"), [
    (config(tier="starter"), config(tier="starter", seats=50), "target.seats"),
    (config(), config(addons=["dedicated_ip"]), "target.addons"),
])
def test_a_forged_quote_for_what_the_catalog_does_not_sell_is_refused(
        client: TestClient, services: Services, operator_key: str, plan: dict[str, Any],
        target: dict[str, Any], problem: str) -> None:
    account = sign_up(client, operator_key, subscription=plan)
    key = bearer(operator_key)
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    genuine = quote_token(client, key, account["id"], {**plan, "contacts": 2500})

    confirm = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                          json={"quote_token": forged_quote(genuine, plan, target)},
                          headers=key)

    assert confirm.status_code == 422, confirm.text
    body = confirm.json()
    assert body["type"] == "urn:canone:problem:invalid_field"
    assert body["field"] == "quote_token"
    assert f"the quoted change is not available ({problem}:" in body["detail"]
    signup_total = to_minor(Decimal(account["invoice"]["total"]))
    assert services.gateway.total_charged() == signup_total  # type: ignore[attr-defined]
    after = client.get(f"{API}/accounts/{account['id']}/subscription", headers=key).json()
    assert after == account["subscription"]
    invoices = client.get(f"{API}/accounts/{account['id']}/invoices", headers=key).json()
    assert [i["kind"] for i in invoices["data"]] == ["signup"]


@pytest.mark.parametrize("version", [2, None])
def test_a_token_of_another_version_is_refused_and_nothing_is_charged(
        client: TestClient, services: Services, operator_key: str,
        version: int | None) -> None:
    account = sign_up(client, operator_key, subscription=config())
    key = bearer(operator_key)
    genuine = quote_token(client, key, account["id"], config(tier="pro"))
    claims = claims_of(genuine)
    assert claims["v"] == 1 and claims["account_id"] == account["id"]
    other = {**claims, "v": version} if version else {  # the one-letter claims of before
        "a": claims["account_id"], "v": claims["subscription_version"], "d": claims["day"],
        "i": claims["immediate"], "t": claims["target"], "due": claims["due"], "n": "x"}

    confirm = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                          json={"quote_token": forge(other, SECRET)}, headers=key)

    assert confirm.status_code == 422, confirm.text
    assert confirm.json()["field"] == "quote_token"
    assert confirm.json()["detail"] == ("a quote token of another version of canone; "
                                        "preview the change again")
    assert services.gateway.total_charged() == to_minor(  # type: ignore[attr-defined]
        Decimal(account["invoice"]["total"]))
