"""`canone apikey create | list | revoke`: the key is printed alone on the last line, shown
once, stored hashed, and works against the API until revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from canone.cli import app as cli
from canone.db.database import Database
from canone.services import apikeys
from canone.services.context import Services

from .conftest import API, bearer, sign_up


@pytest.fixture
def run(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env of the working folder
    monkeypatch.setenv("CANONE_DATABASE_URL", database.url)
    monkeypatch.setenv("CANONE_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    monkeypatch.setenv("CANONE_TEST_MODE", "1")
    return CliRunner()


def test_an_operator_key_is_printed_alone_on_the_last_line(run: CliRunner, client: TestClient,
                                                          services: Services) -> None:
    result = run.invoke(cli, ["apikey", "create", "--operator", "--name", "ops"])

    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("ck_test_") and " " not in key
    stored = apikeys.list_keys(services)
    assert [(k.name, k.account_id) for k in stored] == [("ops", None)]
    assert key not in stored[0].key_hash
    assert client.get(f"{API}/catalog", headers=bearer(key)).status_code == 200


def test_an_account_key_sees_its_account_until_revoked(run: CliRunner, client: TestClient,
                                                       operator_key: str) -> None:
    account = sign_up(client, operator_key)
    created = run.invoke(cli, ["apikey", "create", "--account", account["id"], "--name", "app"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    path = f"{API}/accounts/{account['id']}/entitlements"
    assert client.get(path, headers=bearer(key)).status_code == 200

    listed = run.invoke(cli, ["apikey", "list"])
    key_id = next(line.split("\t")[0] for line in listed.output.splitlines()
                  if f"account {account['id']}" in line)
    revoked = run.invoke(cli, ["apikey", "revoke", key_id])

    assert revoked.exit_code == 0, revoked.output
    assert client.get(path, headers=bearer(key)).status_code == 401
    assert "revoked" in run.invoke(cli, ["apikey", "list"]).output


@pytest.mark.parametrize("arguments", [
    ["apikey", "create", "--name", "x"],
    ["apikey", "create", "--name", "x", "--operator", "--account", "acc_1"],
    ["apikey", "create", "--name", "x", "--account", "acc_missing"],
    ["apikey", "revoke", "key_missing"],
])
def test_mistakes_are_clear_errors(run: CliRunner, client: TestClient,
                                   arguments: list[str]) -> None:
    result = run.invoke(cli, arguments)

    assert result.exit_code in (1, 2)
    assert "error:" in result.output
    assert "Traceback" not in result.output
