"""A retry with the same Idempotency-Key after the request that claimed it died (its
process killed): the claim is a lease renewed while its request runs, so a dead one is
taken over within seconds, and the retry settles the payment the dead request started and
answers with the real result; a slow request that is alive is never taken over."""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canone.services import apikeys, quotes
from canone.services.context import Services
from canone.services.ports import ChargeResult
from canone.services.records import IdempotencyRecord
from canone.settings import Settings
from canone.web.api import idempotency
from canone.web.app import create_app
from sandboxnetwork import ThroughCharge

from .conftest import API, bearer, config, move_clock, sign_up


class ProcessDied(BaseException):
    """Stands for the process dying: nothing after it runs (not an Exception)."""


@dataclasses.dataclass
class Network(ThroughCharge):
    """The sandbox card network, with a process that dies right after a charge or a card
    network that takes `delay` seconds to answer."""

    real: Any
    dies: bool = False
    delay: float = 0.0

    def store_card(self, card: Any) -> Any:
        return self.real.store_card(card)

    def charge(self, card_token: str, amount_minor: int, currency: str,
               idempotency_key: str) -> ChargeResult:
        time.sleep(self.delay)
        result: ChargeResult = self.real.charge(card_token, amount_minor, currency,
                                                idempotency_key)
        if self.dies:
            raise ProcessDied()
        return result

    def lookup(self, idempotency_key: str) -> ChargeResult | None:
        found: ChargeResult | None = self.real.lookup(idempotency_key)
        return found


def quote_token(client: TestClient, operator_key: str, account_id: str) -> str:
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    preview = client.post(f"{API}/accounts/{account_id}/subscription/preview",
                          json={"target": config(tier="enterprise")}, headers=bearer(operator_key))
    token: str = preview.json()["quote_token"]
    return token


def invoice_totals(client: TestClient, operator_key: str, account_id: str) -> list[str]:
    listed = client.get(f"{API}/accounts/{account_id}/invoices", headers=bearer(operator_key))
    return [invoice["total"] for invoice in listed.json()["data"]]


def test_a_retry_after_the_request_died_settles_its_charge_and_answers_within_seconds(
        client: TestClient, services: Services, operator_key: str) -> None:
    account = sign_up(client, operator_key)
    token = quote_token(client, operator_key, account["id"])
    path = f"{API}/accounts/{account['id']}/subscription/confirm"
    body = {"quote_token": token}
    key = apikeys.find(services, operator_key)
    assert key is not None
    # What the dead request left: its claim on the key, last renewed 8.5 s ago (it died
    # then), and its payment intent, committed and charged, with nothing recorded after.
    died_at = datetime.now(UTC) - timedelta(seconds=8.5)
    with services.database.transaction() as store:
        store.access.save_idempotency(IdempotencyRecord(
            key.id, "buy-enterprise", idempotency.fingerprint("POST", path, json.dumps(
                body).encode()), idempotency.IN_PROGRESS, b"", died_at))
    dying = dataclasses.replace(services, gateway=Network(services.gateway, dies=True))
    with pytest.raises(ProcessDied):
        quotes.confirm(dying, apikeys.actor_of(key), account["id"], token)
    assert services.gateway.total_charged() == 4900 + 4800  # type: ignore[attr-defined]
    assert invoice_totals(client, operator_key, account["id"]) == ["49.00"]

    started = time.monotonic()
    retry = client.post(path, json=body, headers={**bearer(operator_key),
                                                  "Idempotency-Key": "buy-enterprise"})
    waited = time.monotonic() - started

    assert retry.status_code == 200, retry.text
    assert 1.0 < waited < 5.0  # the lease ran out 1.5 s after the retry came
    assert retry.json()["invoice"]["total"] == "48.00"
    assert retry.json()["subscription"]["configuration"]["tier"] == "enterprise"
    assert invoice_totals(client, operator_key, account["id"]) == ["48.00", "49.00"]
    assert services.gateway.total_charged() == 4900 + 4800  # type: ignore[attr-defined]
    again = client.post(path, json=body, headers={**bearer(operator_key),
                                                  "Idempotency-Key": "buy-enterprise"})
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == retry.json()


def test_a_slow_request_that_is_alive_keeps_its_key(
        settings: Settings, services: Services, operator_key: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its lease is renewed while it runs: a retry waits for it and gets its response,
    however long past `DEAD_AFTER` it takes."""
    monkeypatch.setattr(idempotency, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(idempotency, "DEAD_AFTER", timedelta(seconds=0.5))
    slow = dataclasses.replace(services, gateway=Network(services.gateway, delay=2.0))
    with TestClient(create_app(settings, slow), raise_server_exceptions=False) as client:
        account = sign_up(client, operator_key)
        token = quote_token(client, operator_key, account["id"])

        def confirm(after: float) -> Any:
            time.sleep(after)
            return client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                               json={"quote_token": token},
                               headers={**bearer(operator_key), "Idempotency-Key": "slow"})

        with ThreadPoolExecutor(max_workers=2) as pool:
            first, retry = pool.map(confirm, (0.0, 1.0))

        assert first.status_code == retry.status_code == 200, (first.text, retry.text)
        assert "idempotent-replayed" not in first.headers
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()
        assert invoice_totals(client, operator_key, account["id"]) == ["48.00", "49.00"]
