"""Webhook endpoints on loopback, private, link-local, unique-local and metadata addresses
(or on names resolving to them) are refused at registration, 422 on `url`, unless the
operator sets CANONE_WEBHOOKS_ALLOW_PRIVATE."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from canone.services.context import Services
from canone.settings import Settings
from canone.web.app import create_app

from .conftest import API, account_key, bearer, sign_up

PUBLIC_ONLY = " webhooks go to public addresses only"


@pytest.fixture
def public_only(settings: Settings, services: Services) -> Iterator[TestClient]:
    app = create_app(replace(settings, webhooks_allow_private=False), services)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def register(client: TestClient, key: str, url: str):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/webhook-endpoints", headers=bearer(key),
                       json={"url": url, "events": ["*"]})


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:5432/", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://[::1]:5432/", "::1 is a loopback address"),
    ("http://10.0.0.7:8080/hooks", "10.0.0.7 is a private address"),
    ("http://172.16.5.4/hooks", "172.16.5.4 is a private address"),
    ("https://[fe80::1]/hooks", "fe80::1 is a link-local address"),
    ("https://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
    ("http://localhost:9/hooks", "localhost resolves to 127.0.0.1, a loopback address"),
])
def test_a_private_url_is_refused_naming_the_field(public_only: TestClient, operator_key: str,
                                                   services: Services, url: str, why: str):
    account = sign_up(public_only, operator_key)
    own = account_key(services, account["id"])

    refused = register(public_only, own, url)

    assert refused.status_code == 422
    assert refused.json()["field"] == "url"
    assert refused.json()["detail"] == f"{why}:{PUBLIC_ONLY}"
    assert public_only.get(f"{API}/webhook-endpoints", headers=bearer(own)).json() == []


@pytest.mark.parametrize("url", ["https://93.184.215.14/hooks",
                                 "https://hooks.acme.invalid/canone"])  # resolves nowhere yet
def test_a_public_or_unresolved_url_is_registered(public_only: TestClient, operator_key: str,
                                                  url: str):
    created = register(public_only, operator_key, url)

    assert created.status_code == 201, created.text
    assert created.json()["url"] == url


def test_the_operator_setting_allows_a_local_receiver(client: TestClient, operator_key: str):
    assert Settings.from_env({}).webhooks_allow_private is False
    assert Settings.from_env({"CANONE_WEBHOOKS_ALLOW_PRIVATE": "1"}).webhooks_allow_private

    created = register(client, operator_key, "http://127.0.0.1:9/hooks")

    assert created.status_code == 201, created.text
