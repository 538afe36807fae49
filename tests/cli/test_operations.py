"""The operations commands, run as a user would: `canone db upgrade`, `canone clock advance`,
`canone billing run`, `canone serve` on an unmigrated database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from canone.billing.catalog import default_catalog
from canone.billing.configuration import Configuration
from canone.db.clock import StoredTestClock, SystemClock
from canone.db.database import Database
from canone.integrations.payments import SandboxGateway
from canone.services import accounts
from canone.services.context import Services
from canone.services.ports import Card


def canone(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "canone", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CANONE_DATABASE_URL": f"sqlite:///{tmp_path / 'canone.db'}",
            "CANONE_SANDBOX_PATH": str(tmp_path / "sandbox.db"),
            "CANONE_TEST_MODE": "1", "CANONE_SECRET_KEY": "cli-test"}


def test_commands_refuse_an_unmigrated_database_and_say_what_to_run(env) -> None:
    for args in (["billing", "run"], ["serve", "--port", "1"]):
        run = canone(env, *args)
        assert run.returncode == 1
        assert "canone db upgrade" in run.stderr
        assert "Traceback" not in run.stderr


def test_db_upgrade_migrates_once_and_again_is_harmless(env) -> None:
    first = canone(env, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert Database(env["CANONE_DATABASE_URL"]).is_migrated()
    assert canone(env, "db", "upgrade").returncode == 0


def test_clock_advance_is_refused_outside_test_mode(env) -> None:
    canone(env, "db", "upgrade")
    run = canone({**env, "CANONE_TEST_MODE": "0"}, "clock", "advance", "--to", "2030-01-01")
    assert run.returncode == 1
    assert "test mode" in run.stderr


def test_clock_moves_forward_only_and_the_billing_run_renews_what_became_due(env) -> None:
    assert canone(env, "db", "upgrade").returncode == 0
    assert canone(env, "clock", "advance", "--to", "2030-01-15T10:00:00+00:00").returncode == 0
    database = Database(env["CANONE_DATABASE_URL"])
    clock = StoredTestClock(database, SystemClock())
    svc = Services(database, clock, SandboxGateway(env["CANONE_SANDBOX_PATH"], clock),
                   default_catalog(), "cli-test")
    accounts.sign_up(svc, accounts.SignUp(
        name="Rome Shop", timezone="Europe/Rome", locale="it", currency="EUR",
        admin_email="ada@example.com", admin_name="Ada", admin_password="correct horse",
        config=Configuration("marketing", "plus", "month", "EUR", 1000, 1, ()),
        card=Card("4242424242424242", 12, 2035, "123")))

    back = canone(env, "clock", "advance", "--to", "2030-01-01")
    assert back.returncode == 1 and "only moves forward" in back.stderr
    nothing = canone(env, "billing", "run")
    assert nothing.returncode == 0, nothing.stderr
    assert "renewed 0," in nothing.stdout
    # 15 Feb 00:00 in Rome is 14 Feb 23:00 UTC: the period has ended there.
    assert canone(env, "clock", "advance", "--to", "2030-02-14T23:30:00+00:00").returncode == 0
    run = canone(env, "billing", "run")
    assert run.returncode == 0, run.stderr
    assert "renewed 1, cancelled 0, blocked 0, collected 1, failed 0" in run.stdout
    with database.transaction() as store:
        user = store.user_by_email("ada@example.com")
        invoices = store.invoices_of(user.account_id, 10, None)
    assert [(i.number, i.total, i.status) for i in invoices] == [
        ("2030-000002", 4900, "paid"), ("2030-000001", 4900, "paid")]
    assert str(invoices[0].period_start) == "2030-02-15"


def test_bad_until_is_a_clear_usage_error(env) -> None:
    canone(env, "db", "upgrade")
    run = canone(env, "billing", "run", "--until", "yesterday")
    assert run.returncode == 2
    assert "--until" in run.stderr and "Traceback" not in run.stderr


def test_a_fake_vies_is_refused_outside_test_mode(env) -> None:
    assert canone(env, "db", "upgrade").returncode == 0
    run = canone({**env, "CANONE_TEST_MODE": "0", "CANONE_VIES": "fake"}, "billing", "run")
    assert run.returncode == 1
    assert "error: CANONE_VIES=fake confirms any VAT id and is for test mode only" in run.stderr
    assert "Traceback" not in run.stderr
