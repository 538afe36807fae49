"""`Idempotency-Key` on POST, with Stripe's semantics: same key and body → the stored
response; same key, other request → 422; concurrent requests with one key → one effect."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canone.services import apikeys
from canone.services.context import Services
from canone.services.records import IdempotencyRecord
from canone.web.api import idempotency

from .conftest import API, account_key, bearer, config, move_clock, sign_up, signup_body


def with_key(api_key: str, idempotency_key: str) -> dict[str, str]:
    return {**bearer(api_key), "Idempotency-Key": idempotency_key}


def status_of_one_answer(call: Callable[[], tuple[int, str]], times: int, threads: int) -> int:
    """`call` made `times` times from `threads` threads at once: every call got the same
    answer (a status and a body or an id); its status."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = set(pool.map(lambda _: call(), range(times)))
    assert len(answers) == 1, answers
    [(status, _)] = answers
    return status


def requests_of(client: TestClient, api_key: str, account_id: str) -> list[dict[str, Any]]:
    listed = client.get(f"{API}/accounts/{account_id}/change-requests?limit=100",
                        headers=bearer(api_key))
    data: list[dict[str, Any]] = listed.json()["data"]
    return data


@pytest.fixture
def account(client: TestClient, operator_key: str) -> dict[str, Any]:
    return sign_up(client, operator_key)


def test_a_retry_with_the_same_key_and_body_replays_the_response(
        client: TestClient, operator_key: str, account: dict[str, Any]) -> None:
    path = f"{API}/accounts/{account['id']}/change-requests"
    body = {"message": "More seats at a discount?", "reason": "price"}

    first = client.post(path, json=body, headers=with_key(operator_key, "req-1"))
    reordered = {"reason": "price", "message": "More seats at a discount?"}
    second = client.post(path, json=reordered, headers=with_key(operator_key, "req-1"))

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["x-content-type-options"] == "nosniff"
    assert len(requests_of(client, operator_key, account["id"])) == 1


def test_the_same_key_with_another_body_or_path_is_422(
        client: TestClient, operator_key: str, account: dict[str, Any]) -> None:
    path = f"{API}/accounts/{account['id']}/change-requests"
    client.post(path, json={"message": "one"}, headers=with_key(operator_key, "k"))

    other_body = client.post(path, json={"message": "two"}, headers=with_key(operator_key, "k"))
    other_path = client.post(f"{API}/accounts/{account['id']}/subscription/cancel",
                             headers=with_key(operator_key, "k"))

    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:canone:problem:idempotency_conflict"
        assert response.json()["field"] == "Idempotency-Key"
    assert len(requests_of(client, operator_key, account["id"])) == 1
    assert client.get(f"{API}/accounts/{account['id']}/subscription",
                      headers=bearer(operator_key)).json()["cancel_at_period_end"] is False


def test_a_body_that_failed_validation_does_not_use_up_the_key(
        client: TestClient, operator_key: str, account: dict[str, Any]) -> None:
    path = f"{API}/accounts/{account['id']}/change-requests"

    bad = client.post(path, json={"message": 42}, headers=with_key(operator_key, "k2"))
    good = client.post(path, json={"message": "fixed"}, headers=with_key(operator_key, "k2"))

    assert bad.status_code == 422
    assert good.status_code == 201


def test_an_error_answer_is_replayed_too(client: TestClient, operator_key: str,
                                         account: dict[str, Any]) -> None:
    """Stripe: once the request ran, its outcome is the answer to that key, errors too."""
    path = f"{API}/accounts/{account['id']}/subscription"
    first = client.post(f"{path}/resume", headers=with_key(operator_key, "resume-1"))
    assert first.status_code == 409  # not cancelled
    client.post(f"{path}/cancel", headers=bearer(operator_key))

    again = client.post(f"{path}/resume", headers=with_key(operator_key, "resume-1"))

    assert again.status_code == 409
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"
    assert client.get(path, headers=bearer(operator_key)).json()["cancel_at_period_end"]


def test_keys_are_scoped_by_api_key(client: TestClient, operator_key: str,
                                    services: Services, account: dict[str, Any]) -> None:
    own = account_key(services, account["id"])
    path = f"{API}/accounts/{account['id']}/change-requests"

    first = client.post(path, json={"message": "hi"}, headers=with_key(operator_key, "same"))
    second = client.post(path, json={"message": "hi"}, headers=with_key(own, "same"))

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_sign_up_replays_with_the_same_key(client: TestClient, operator_key: str) -> None:
    body = signup_body()

    first = client.post(f"{API}/accounts", json=body, headers=with_key(operator_key, "signup"))
    second = client.post(f"{API}/accounts", json=body, headers=with_key(operator_key, "signup"))

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    listed = client.get(f"{API}/accounts", headers=bearer(operator_key)).json()["data"]
    assert [a["id"] for a in listed] == [first.json()["id"]]


def test_concurrent_requests_with_one_key_have_one_effect(
        client: TestClient, operator_key: str, account: dict[str, Any]) -> None:
    path = f"{API}/accounts/{account['id']}/change-requests"

    def create() -> tuple[int, str]:
        response = client.post(path, json={"message": "once"},
                               headers=with_key(operator_key, "together"))
        return response.status_code, response.text

    assert status_of_one_answer(create, 16, threads=8) == 201
    assert len(requests_of(client, operator_key, account["id"])) == 1


def test_concurrent_confirmations_with_one_key_charge_once(
        client: TestClient, operator_key: str, account: dict[str, Any]) -> None:
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    token = client.post(f"{API}/accounts/{account['id']}/subscription/preview",
                        json={"target": config(tier="enterprise")},
                        headers=bearer(operator_key)).json()["quote_token"]

    def confirm() -> tuple[int, str]:
        response = client.post(f"{API}/accounts/{account['id']}/subscription/confirm",
                               json={"quote_token": token},
                               headers=with_key(operator_key, "buy-enterprise"))
        return response.status_code, response.text

    assert status_of_one_answer(confirm, 12, threads=6) == 200
    invoices = client.get(f"{API}/accounts/{account['id']}/invoices",
                          headers=bearer(operator_key)).json()["data"]
    assert [i["total"] for i in invoices] == ["48.00", "49.00"]


def test_concurrent_sign_ups_with_one_key_create_one_account(client: TestClient,
                                                             operator_key: str) -> None:
    def create() -> tuple[int, str]:
        response = client.post(f"{API}/accounts", json=signup_body(),
                               headers=with_key(operator_key, "one-account"))
        return response.status_code, response.json().get("id", response.text)

    assert status_of_one_answer(create, 8, threads=4) == 201


def test_an_over_long_key_is_refused(client: TestClient, operator_key: str,
                                     account: dict[str, Any]) -> None:
    response = client.post(f"{API}/accounts/{account['id']}/change-requests",
                           json={"message": "x"}, headers=with_key(operator_key, "k" * 256))

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"


def test_records_older_than_a_day_are_purged(client: TestClient, operator_key: str,
                                             services: Services, account: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Also on a machine booted a few seconds ago (a fresh CI machine): the purge must not
    wait for the host's uptime to pass ten minutes."""
    scope = apikeys.find(services, operator_key)
    assert scope is not None
    now = datetime.now(UTC)
    with services.database.transaction() as store:
        for key, age in (("old", timedelta(hours=26)), ("recent", timedelta(hours=23))):
            store.access.save_idempotency(IdempotencyRecord(scope.id, key, "fp", 201, b"{}",
                                                            now - age))
    booted_5_seconds_ago = SimpleNamespace(monotonic=lambda: 5.0)
    monkeypatch.setattr(idempotency, "time", booted_5_seconds_ago)

    client.post(f"{API}/accounts/{account['id']}/change-requests", json={"message": "x"},
                headers=with_key(operator_key, "new"))

    with services.database.transaction() as store:
        assert store.access.get_idempotency(scope.id, "old") is None
        assert store.access.get_idempotency(scope.id, "recent") is not None


def test_purges_follow_the_records_clock_at_most_every_ten_minutes(
        services: Services, operator_key: str) -> None:
    scope = apikeys.find(services, operator_key)
    assert scope is not None
    t0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def stored(key: str) -> bool:
        with services.database.transaction() as store:
            return store.access.get_idempotency(scope.id, key) is not None

    def save(key: str, at: datetime) -> None:
        with services.database.transaction() as store:
            store.access.save_idempotency(IdempotencyRecord(scope.id, key, "fp", 201, b"{}", at))

    purges = idempotency.PurgeSchedule()
    save("a", t0 - timedelta(hours=26))
    assert purges.purge_when_due(services, t0) is True  # the first call purges
    assert not stored("a")
    save("b", t0 - timedelta(hours=26))
    assert purges.purge_when_due(services, t0 + timedelta(minutes=9)) is False
    assert stored("b")
    assert purges.purge_when_due(services, t0 + timedelta(minutes=10)) is True
    assert not stored("b")


def test_posts_without_a_key_still_work(client: TestClient, operator_key: str,
                                        account: dict[str, Any]) -> None:
    path = f"{API}/accounts/{account['id']}/change-requests"
    for _ in range(2):
        assert client.post(path, json={"message": "x"},
                           headers=bearer(operator_key)).status_code == 201

    assert len(requests_of(client, operator_key, account["id"])) == 2


def test_a_preview_changes_nothing_yet_its_key_has_one_answer(
        client: TestClient, operator_key: str, account: dict[str, Any]) -> None:
    """A preview's key is not claimed before it runs (it changes nothing), only its answer
    stored after: a retry still gets that answer (the same quote token), another body 422."""
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    path = f"{API}/accounts/{account['id']}/subscription/preview"
    body = {"target": config(tier="enterprise")}

    first = client.post(path, json=body, headers=with_key(operator_key, "look-1"))
    second = client.post(path, json=body, headers=with_key(operator_key, "look-1"))
    other = client.post(path, json={"target": config(seats=3)},
                        headers=with_key(operator_key, "look-1"))
    fresh = client.post(path, json=body, headers=with_key(operator_key, "look-2"))

    assert first.status_code == second.status_code == fresh.status_code == 200
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert fresh.json()["quote_token"] != first.json()["quote_token"]
    assert other.status_code == 422
    assert other.json()["type"] == "urn:canone:problem:idempotency_conflict"


def test_concurrent_previews_with_one_key_get_one_answer(
        client: TestClient, operator_key: str, account: dict[str, Any]) -> None:
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    path = f"{API}/accounts/{account['id']}/subscription/preview"

    def preview() -> tuple[int, str]:
        response = client.post(path, json={"target": config(tier="enterprise")},
                               headers=with_key(operator_key, "look-together"))
        return response.status_code, response.json()["quote_token"]

    assert status_of_one_answer(preview, 16, threads=8) == 200


def test_a_keyed_body_nested_too_deep_is_a_client_error(client: TestClient, operator_key: str,
                                                        account: dict[str, Any]) -> None:
    response = client.post(f"{API}/accounts/{account['id']}/change-requests",
                           content=b"[" * 100_000 + b"]" * 100_000,
                           headers={**with_key(operator_key, "deep"),
                                    "Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
