"""The API on real adapters: a migrated database (SQLite and PostgreSQL), the sandbox card
network in a file, and the stored test clock, which `POST /api/v1/test-clock` moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canone.bootstrap import build_services
from canone.db.database import Database
from canone.services import apikeys
from canone.services.context import Services
from canone.settings import Settings
from canone.web.app import create_app
from clocks import TestClock

# 1 April 2026, 10:00 in Rome: day 1 of a 30-day monthly period for an anchor of 1 April.
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
API = "/api/v1"
SECRET = "api-tests-secret"


@pytest.fixture
def services(database: Database, settings: Settings) -> Services:
    """Test mode: the stored test clock (until moved, at START) and the fake VIES; no
    seller (amounts stay net, as SPEC §4 gives them) unless a test gives one."""
    return build_services(settings, database, clock=TestClock(START), seller=None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Webhook receivers of the tests listen on localhost: private addresses are allowed.
    return Settings(database_url="unused://", secret_key=SECRET, test_mode=True,
                    sandbox_path=str(tmp_path / "sandbox.db"), webhooks_allow_private=True,
                    vies="fake")


@pytest.fixture
def app(settings: Settings, services: Services) -> FastAPI:
    return create_app(settings, services)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def operator_key(services: Services) -> str:
    return apikeys.create(services, "operator", None, test_mode=True).secret


def bearer(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def config(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"product": "marketing", "tier": "plus", "interval": "month",
                            "currency": "USD", "contacts": 1000, "seats": 1, "addons": []}
    return {**base, **changes}


def signup_body(email: str = "ada@example.com", card: str = "4242424242424242",
                **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Acme", "timezone": "Europe/Rome", "locale": "en", "currency": "USD",
        "primary_admin": {"email": email, "name": "Ada Lovelace",
                          "password": "correct horse battery"},
        "subscription": config(), "anchor": "2026-04-01",
        "payment_method": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    }
    return {**body, **changes}


def sign_up(client: TestClient, operator_key: str, **changes: Any) -> dict[str, Any]:
    response = client.post(f"{API}/accounts", json=signup_body(**changes),
                           headers=bearer(operator_key))
    assert response.status_code == 201, response.text
    account: dict[str, Any] = response.json()
    return account


def account_key(services: Services, account_id: str) -> str:
    return apikeys.create(services, "host app", account_id, test_mode=True).secret


def quote_token(client: TestClient, headers: dict[str, str], account_id: str,
                target: dict[str, Any]) -> str:
    """The quote token of a preview of `target`."""
    token: str = client.post(f"{API}/accounts/{account_id}/subscription/preview",
                             json={"target": target}, headers=headers).json()["quote_token"]
    return token


def move_clock(client: TestClient, operator_key: str, now: str) -> None:
    response = client.post(f"{API}/test-clock", json={"now": now}, headers=bearer(operator_key))
    assert response.status_code == 200, response.text
