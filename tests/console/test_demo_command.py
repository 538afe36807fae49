"""`canone demo` seeds a fresh database once, through the services, with the states the
portal and the console show; a second run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from canone.db.database import Database
from canone.services import accounts


def canone(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CANONE_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
           "CANONE_SANDBOX_PATH": str(folder / "sandbox.db")}
    env.pop("CANONE_TEST_MODE", None)
    return subprocess.run([sys.executable, "-m", "canone", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A demo database seeded twice; the two outputs."""
    folder = tmp_path_factory.mktemp("demo")
    assert canone(folder, "db", "upgrade").returncode == 0
    first = canone(folder, "demo", "--url", "http://127.0.0.1:8123")
    assert first.returncode == 0, first.stderr
    second = canone(folder, "demo")
    assert second.returncode == 0, second.stderr
    return folder, first.stdout, second.stdout


def snapshot(folder: Path) -> dict[str, object]:
    database = Database(f"sqlite:///{folder / 'demo.db'}")
    with database.transaction() as store:
        found = store.accounts.find(None, 100, None)
        state = {
            "accounts": sorted((a.name, a.status) for a in found),
            "users": sum(len(store.people.users_of(a.id)) for a in found),
            "audit": sum(len(store.audit.of_account(a.id, 1000)) for a in found),
            "requests": sorted((r.status, r.account_id) for r in store.requests.queue(
                None, 100, None)),
        }
    database.dispose()
    return state


def account_named(folder: Path, name: str):  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{folder / 'demo.db'}")
    with database.transaction() as store:
        account = next(a for a in store.accounts.find(name, 10, None) if a.name == name)
        sub = store.subscriptions.of_account(account.id)
        invoices = store.invoices.of_account(account.id, 10, None)
        requests = store.requests.of_account(account.id)
        usage = store.usage.of_account(account.id)
        users = store.people.users_of(account.id)
    database.dispose()
    return account, sub, invoices, requests, usage, users


def test_the_first_run_seeds_and_prints_the_address_and_logins(
        seeded: tuple[Path, str, str]) -> None:
    _folder, first, _second = seeded
    assert first.startswith("demo data seeded")
    assert "http://127.0.0.1:8123/" in first and "http://127.0.0.1:8123/console" in first
    assert "'canone-demo'" in first  # the password
    assert "support@canone.example" in first
    for mailbox in ("owner", "admin", "user"):
        assert f"{mailbox}@copperleaf.example" in first


def test_a_second_run_says_so_and_changes_nothing(seeded: tuple[Path, str, str]) -> None:
    folder, _first, second = seeded
    assert second.startswith("the demo data is already seeded; nothing changed")
    assert "owner@alpina.example" in second  # the logins again
    before = snapshot(folder)
    third = canone(folder, "demo")
    assert third.returncode == 0
    assert snapshot(folder) == before


def test_the_demo_has_every_kind_of_account_with_three_people(
        seeded: tuple[Path, str, str]) -> None:
    folder, _first, _second = seeded
    state = snapshot(folder)
    assert len(state["accounts"]) == 8  # type: ignore[arg-type]
    assert state["users"] == 24
    plans = set()
    for name, _status in state["accounts"]:  # type: ignore[attr-defined]
        _account, sub, _invoices, _requests, _usage, users = account_named(folder, name)
        plans.add((sub.config.product, sub.config.tier))
        assert sorted((u.role, u.billing) for u in users) == [
            ("admin", False), ("primary_admin", True), ("user", False)]
    assert {("marketing", "starter"), ("marketing", "plus"), ("marketing", "pro"),
            ("sales", "pro"), ("bundle", "plus")} <= plans


def test_the_past_due_account_is_restricted_after_its_retries(
        seeded: tuple[Path, str, str]) -> None:
    folder, _first, _second = seeded
    account, sub, invoices, _requests, _usage, _users = account_named(folder, "Copperleaf Studio")
    assert (account.status, sub.status) == ("past_due", "past_due")
    renewal = next(i for i in invoices if i.kind == "renewal")
    assert (renewal.status, renewal.attempts) == ("open", 4)  # day 1, then days 3, 5, 7


def test_the_pending_reduction_and_the_open_request(seeded: tuple[Path, str, str]) -> None:
    folder, _first, _second = seeded
    account, sub, _invoices, requests, _usage, _users = account_named(
        folder, "Studio Dentistico Alpina")
    assert account.status == "active"
    assert (sub.config.contacts, sub.pending.contacts if sub.pending else None) == (10000, 5000)
    assert [(r.status, r.desired.tier if r.desired else None) for r in requests] == [
        ("open", "plus")]
    _account, _sub, _invoices, bundle_requests, _usage, _users = account_named(
        folder, "Officina Verde")
    assert [r.status for r in bundle_requests] == ["in_progress"]


def test_the_account_near_its_limit_uses_92_percent(seeded: tuple[Path, str, str]) -> None:
    folder, _first, _second = seeded
    _account, sub, _invoices, _requests, usage, _users = account_named(
        folder, "Blue Harbor Travel")
    assert usage is not None and sub.config.contacts is not None
    assert usage.contacts * 100 // sub.config.contacts == 92


def test_the_support_agent_can_sign_in(seeded: tuple[Path, str, str]) -> None:
    folder, _first, _second = seeded
    database = Database(f"sqlite:///{folder / 'demo.db'}")
    with database.transaction() as store:
        agent = store.people.staff_by_email("support@canone.example")
    database.dispose()
    assert agent is not None
    assert accounts.password_matches(agent.password_hash, "canone-demo")


def test_no_demo_account_has_fewer_seats_than_active_users(
        seeded: tuple[Path, str, str]) -> None:
    folder, _first, _second = seeded
    for name, _status in snapshot(folder)["accounts"]:  # type: ignore[attr-defined]
        _account, sub, _invoices, _requests, usage, users = account_named(folder, name)
        active = max(sum(1 for u in users if u.active), usage.active_users if usage else 0)
        assert sub.config.seats >= active, name
        if sub.pending is not None:
            assert sub.pending.seats >= active, name


def test_the_demo_accounts_have_billing_details_for_each_tax_case(
        seeded: tuple[Path, str, str]) -> None:
    folder, _first, _second = seeded
    database = Database(f"sqlite:///{folder / 'demo.db'}")
    found = {}
    with database.read() as store:
        for account in store.accounts.find(None, 100, None):
            saved = store.accounts.billing_details_of(account.id)
            found[account.name] = None if saved is None else (
                saved.details.kind, saved.details.country, saved.details.vat_id,
                saved.details.tax_code, saved.details.sdi_code,
                None if saved.vies is None else saved.vies.valid, saved.card_country)
    database.dispose()
    assert found == {
        "Trattoria Bellavista": ("consumer", "IT", None, "BLLLCU82C54D612L", None, None, "IT"),
        "Officina Verde": ("business", "IT", "IT05182730159", "05182730159", "KRX5Q7A", None,
                           "IT"),
        "Studio Dentistico Alpina": ("business", "IT", "IT03917850228", None, None, None,
                                     "IT"),
        "Lumen Analytics": ("business", "DE", "DE814937267", None, None, True, "GB"),
        "Copperleaf Studio": ("consumer", "FR", None, None, None, None, "FR"),
        "Northwind Outfitters": ("business", "US", "943172856", None, None, None, "US"),
        "Pinnacle Sales Co.": None,
        "Blue Harbor Travel": None,
    }
