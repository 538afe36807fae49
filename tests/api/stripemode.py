"""The API in Stripe mode against localstripe (SPEC §9): the `settings` and `services`
fixtures a test module imports to replace the sandbox ones of conftest.py, and helpers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canone.bootstrap import build_services
from canone.db.database import Database
from canone.integrations.payments.stripe import StripeGateway
from canone.services.context import Services
from canone.settings import Settings
from clocks import TestClock
from stripefixtures import TEST_KEY, LocalStripe

from .conftest import API, SECRET, START, bearer, sign_up

WEBHOOK_SECRET = "whsec_canone_tests"
VISA = "4242424242424242"
THREE_D_SECURE = "4000002760003184"


@pytest.fixture
def settings(tmp_path: Path, stripe_base: str) -> Settings:
    return Settings(database_url="unused://", secret_key=SECRET, test_mode=True,
                    payments="stripe", stripe_secret_key=TEST_KEY,
                    stripe_publishable_key="pk_test_canone",
                    stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_base=stripe_base)


@pytest.fixture
def services(database: Database, settings: Settings, stripe_base: str) -> Services:
    """Stripe at localstripe, without the SDK's retries (a test's failure shows at once)."""
    return build_services(settings, database, clock=TestClock(START), vies=None, seller=None,
                          gateway=StripeGateway(TEST_KEY, api_base=stripe_base,
                                                network_retries=0))


def stripe_sign_up(client: TestClient, operator_key: str, localstripe: LocalStripe,
                   number: str = VISA, **changes: Any) -> dict[str, Any]:
    """An account signed up with a card Stripe Elements made (number `number`)."""
    return sign_up(client, operator_key, payment_method={
        "stripe_payment_method": localstripe.card_method(number)}, **changes)


def change_confirmed(client: TestClient, operator_key: str, account_id: str,
                     target: dict[str, Any]) -> tuple[str, Any]:
    """A change to `target` previewed and confirmed (Idempotency-Key `upgrade-1`): the quote
    token and confirm's answer, whatever its status."""
    token = post(client, operator_key, f"/accounts/{account_id}/subscription/preview",
                 {"target": target})["quote_token"]
    answer = client.post(f"{API}/accounts/{account_id}/subscription/confirm",
                         json={"quote_token": token},
                         headers={**bearer(operator_key), "Idempotency-Key": "upgrade-1"})
    return str(token), answer


def get(client: TestClient, operator_key: str, path: str) -> Any:
    answer = client.get(f"{API}{path}", headers=bearer(operator_key))
    assert answer.status_code == 200, answer.text
    return answer.json()


def post(client: TestClient, operator_key: str, path: str, body: Any | None = None) -> Any:
    """A POST that must succeed (2xx); its JSON."""
    answer = client.post(f"{API}{path}", json=body if body is not None else {},
                         headers=bearer(operator_key))
    assert 200 <= answer.status_code < 300, answer.text
    return answer.json()


def event(kind: str, object_id: str, event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event about `object_id` (its type says what object), as Stripe sends it
    (reduced: handlers re-read the object)."""
    return {"id": event_id or f"evt_{kind}_{object_id}", "object": "event", "type": kind,
            "created": int(time.time()), "api_version": None,
            "data": {"object": {"id": object_id, "object": kind.rsplit(".", 1)[0]
                                if not kind.startswith("charge.dispute") else "dispute"}}}


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    at = int(time.time())
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={at},v1={mac}",
                     "Content-Type": "application/json"}


def post_event(client: TestClient, event: dict[str, Any],
               secret: str = WEBHOOK_SECRET) -> Any:
    payload, headers = signed(event, secret)
    return client.post("/webhooks/stripe", content=payload, headers=headers)


