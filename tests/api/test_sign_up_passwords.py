"""The sign-up API refuses a weak password for the primary admin, naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import API, bearer, signup_body


@pytest.mark.parametrize(("password", "message"), [
    ("12345678", "is too common"),
    ("        ", "must not be only spaces"),
    ("Passw0rd", "is too common"),
    ("short", "String should have at least 8 characters"),
])
def test_a_weak_password_is_a_422_naming_the_field(client: TestClient, operator_key: str,
                                                   password: str, message: str) -> None:
    body = signup_body()
    body["primary_admin"]["password"] = password

    answer = client.post(f"{API}/accounts", json=body, headers=bearer(operator_key))

    assert answer.status_code == 422
    assert answer.json()["field"] == "primary_admin.password"
    assert answer.json()["errors"][0]["message"].startswith(message)
    assert client.get(f"{API}/accounts", headers=bearer(operator_key)).json()["data"] == []
