"""The operations commands, run as a user would: `canone db upgrade`, `canone clock advance`,
`canone billing run`, `canone payments reconcile`, `canone serve` on an unmigrated
database."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from canone.billing.configuration import Configuration
from canone.bootstrap import build_services
from canone.db.database import Database
from canone.services import accounts, quotes, requests, signups
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.services.errors import PaymentPending
from canone.services.ports import Card
from canone.settings import Settings
from legacy import readdress_pending_signup


def canone(env: dict[str, str], *args: str, cwd: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "canone", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120, cwd=cwd)


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


PLUS = Configuration("marketing", "plus", "month", "EUR", 1000, 1, ())
TIMEOUT_CARD = Card("4000000000000119", 12, 2035, "123")  # taken, then the answer is lost


def services_of_commands(database: Database, env: dict[str, str]) -> Services:
    """The services the commands run with `env` build (in test mode: the stored test clock
    over the host's clock), on `database`, without VIES (no billing details here), with the
    same (demo) seller as the commands: what they settle is taxed as it was quoted."""
    return build_services(Settings.from_env(env), database, vies=None, einvoicing=None)


def sign_up(svc: Services, email: str, card: Card) -> signups.SignedUp:
    return signups.sign_up(svc, signups.SignUp(
        name="Rome Shop", timezone="Europe/Rome", locale="it", currency="EUR",
        admin_email=email, admin_name="Ada", admin_password="correct horse", config=PLUS,
        card=card))


def a_change_taken_and_lost(database: Database, svc: Services) -> signups.SignedUp:
    """Ada signs up on 1 January 2030 and, on 16 January, buys 3 seats with a card that
    the network charges without its answer reaching canone: the change's intent pending."""
    set_clock(database, datetime(2030, 1, 1, 9, tzinfo=UTC))
    signed = sign_up(svc, "ada@example.com", Card("4242424242424242", 12, 2035, "123"))
    set_clock(database, datetime(2030, 1, 16, 9, tzinfo=UTC))
    with database.read() as store:
        ada = Actor.of_user(store.people.users_of(signed.account.id)[0])
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)
    token = quotes.preview(svc, ada, signed.account.id, dataclasses.replace(PLUS, seats=3)).token
    with pytest.raises(PaymentPending):
        quotes.confirm(svc, ada, signed.account.id, token)
    return signed


def test_a_fresh_reconcile_process_settles_a_plan_change_and_a_sign_up(
        database: Database, tmp_path: Path) -> None:
    """The outcomes of a plan change and of a sign-up were lost (the card network timed
    out after taking the money). A `canone payments reconcile` process, which imports
    neither use case, settles both from the card network's record: once each."""
    env = {"CANONE_DATABASE_URL": database.url,
           "CANONE_SANDBOX_PATH": str(tmp_path / "sandbox.db"),
           "CANONE_TEST_MODE": "1", "CANONE_SECRET_KEY": "cli-test"}
    svc = services_of_commands(database, env)
    signed = a_change_taken_and_lost(database, svc)
    with pytest.raises(PaymentPending):
        sign_up(svc, "bea@example.com", TIMEOUT_CARD)
    set_clock(database, datetime(2030, 1, 16, 9, 1, tzinfo=UTC))

    run = canone(env, "payments", "reconcile")

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "reconciled 2"
    with database.read() as store:
        assert store.payments.pending_intents(svc.now(), 10) == []
        assert store.subscriptions.of_account(signed.account.id).config.seats == 3
        bea = store.people.user_by_email("bea@example.com")
        assert bea is not None
        # Taxed as the CLI process taxes them (the same seller): Italian VAT, 22 %.
        assert [(i.kind, i.total, i.status)
                for i in store.invoices.of_account(bea.account_id, 10, None)] == [
            ("signup", 5978, "paid")]
        assert [(i.kind, i.subtotal, i.total, i.status)
                for i in store.invoices.of_account(signed.account.id, 10, None)] == [
            ("upgrade", 1961, 2392, "paid"), ("signup", 4900, 5978, "paid")]
    assert svc.gateway.total_charged() == 5978 + 2392 + 5978  # type: ignore[attr-defined]


def test_reconcile_names_a_payment_it_cannot_settle_and_settles_the_rest(
        env: dict[str, str]) -> None:
    """Two sign-ups with one email, both pending (as canone once allowed): the second cannot
    be settled once the first has the email. It is named, stays pending, and the command
    exits 1."""
    assert canone(env, "db", "upgrade").returncode == 0
    database = Database(env["CANONE_DATABASE_URL"])
    svc = services_of_commands(database, env)
    for minute, email in ((0, "bea@example.com"), (1, "bea.too@example.com")):
        set_clock(database, datetime(2030, 1, 1, 9, minute, tzinfo=UTC))
        with pytest.raises(PaymentPending):
            sign_up(svc, email, TIMEOUT_CARD)
    set_clock(database, datetime(2030, 1, 1, 9, 2, tzinfo=UTC))
    readdress_pending_signup(svc, "bea.too@example.com", "bea@example.com", svc.now())

    run = canone(env, "payments", "reconcile")

    assert run.returncode == 1
    assert run.stdout == "reconciled 1\n"
    assert "error: 1 payment(s) could not be settled and stay pending:\n  sgn_" in run.stderr
    assert "(signup): Conflict: a user with email bea@example.com already exists" in run.stderr
    assert "Traceback" not in run.stderr
    with database.read() as store:
        assert len(store.payments.pending_intents(svc.now(), 10)) == 1
    database.dispose()


def test_reconcile_says_a_refund_it_could_not_make_will_be_asked_for_again(
        env: dict[str, str]) -> None:
    """A plan change was taken but its answer lost, and support moved the account on
    meanwhile: reconciliation settles the payment (a stale quote's, SPEC §9) and asks for
    its refund, which the network refuses (refunded there by hand already). The command
    says that refund could not be made and that each reconciliation asks again (the 60
    days it looks back), and exits 1."""
    assert canone(env, "db", "upgrade").returncode == 0
    database = Database(env["CANONE_DATABASE_URL"])
    svc = services_of_commands(database, env)
    signed = a_change_taken_and_lost(database, svc)
    support = Actor(STAFF, "staff:sam@canone.test")
    made = requests.create(svc, support, signed.account.id,
                           dataclasses.replace(PLUS, seats=2), "Budget", "")
    requests.transition(svc, support, made.id, "completed", effective="now")
    with database.read() as store:
        taken = store.payments.pending_intent_of(signed.account.id)
    assert taken is not None and taken.provider_id is not None
    svc.gateway.refund(taken.provider_id, taken.amount, "by-hand")
    set_clock(database, datetime(2030, 1, 16, 9, 1, tzinfo=UTC))

    run = canone(env, "payments", "reconcile")

    assert run.returncode == 1
    assert run.stdout == "reconciled 1\n"
    with database.read() as store:
        (upgrade,) = [i for i in store.invoices.of_account(signed.account.id, 10, None)
                      if i.kind == "upgrade"]
    assert upgrade.status == "paid"
    assert (f"error: the refund of invoice {upgrade.number} could not be made: The payment "
            f"provider refused the refund: The refund must be between 1 and 0 (minor units "
            f"of EUR) left to refund, not {taken.amount}; it will be tried again by each "
            "reconciliation until 2030-03-17 09:00 UTC") in run.stderr.splitlines()
    assert "could not be settled" not in run.stderr and "Traceback" not in run.stderr
    database.dispose()


def set_clock(database: Database, instant: datetime) -> None:
    with database.transaction() as store:
        store.set_clock_override(instant)


def test_clock_moves_forward_only_and_the_billing_run_renews_what_became_due(env) -> None:
    assert canone(env, "db", "upgrade").returncode == 0
    assert canone(env, "clock", "advance", "--to", "2030-01-15T10:00:00+00:00").returncode == 0
    database = Database(env["CANONE_DATABASE_URL"])
    svc = services_of_commands(database, env)
    signups.sign_up(svc, signups.SignUp(
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
        user = store.people.user_by_email("ada@example.com")
        invoices = store.invoices.of_account(user.account_id, 10, None)
    assert [(i.number, i.total, i.status) for i in invoices] == [
        ("2030-000002", 5978, "paid"), ("2030-000001", 5978, "paid")]
    assert str(invoices[0].period_start) == "2030-02-15"


def test_bad_until_is_a_clear_usage_error(env) -> None:
    canone(env, "db", "upgrade")
    run = canone(env, "billing", "run", "--until", "yesterday")
    assert run.returncode == 2
    assert "--until" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(("secret", "problem"), [
    ("", "CANONE_SECRET_KEY is not set"),
    ("dev-secret-change-me", "CANONE_SECRET_KEY is the old public default"),
    ("short-secret", "CANONE_SECRET_KEY is too short (12 characters, at least 16)"),
])
def test_serve_refuses_to_start_without_a_real_secret_outside_test_mode(
        env, tmp_path: Path, secret: str, problem: str) -> None:
    assert canone(env, "db", "upgrade").returncode == 0
    outside = {**env, "CANONE_TEST_MODE": "0", "CANONE_SECRET_KEY": secret}

    run = canone(outside, "serve", "--port", "1", cwd=tmp_path)  # no .env there

    assert run.returncode == 1
    assert run.stderr.startswith(f"error: {problem}")
    assert "make run" in run.stderr and "Traceback" not in run.stderr


def test_make_run_writes_a_random_secret_into_env_the_first_time(tmp_path: Path) -> None:
    makefile = Path(__file__).parents[2] / "Makefile"
    without = {k: v for k, v in os.environ.items() if k != "CANONE_SECRET_KEY"}

    def make(extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-s", "-f", str(makefile), "secret-key"], cwd=tmp_path,
                              env={**without, **(extra or {})}, capture_output=True, text=True,
                              timeout=60)

    assert make({"CANONE_SECRET_KEY": "set-in-the-environment"}).returncode == 0
    assert not (tmp_path / ".env").exists()  # one is set: nothing written
    (tmp_path / ".env").write_text("CANONE_DATABASE_URL=sqlite:///x.db")  # no final newline

    first = make()
    again = make()

    assert first.returncode == again.returncode == 0, first.stderr
    assert first.stdout == "wrote a new random CANONE_SECRET_KEY into .env\n"
    assert again.stdout == ""
    lines = (tmp_path / ".env").read_text().splitlines()
    assert lines[0] == "CANONE_DATABASE_URL=sqlite:///x.db"
    assert len(lines) == 2 and lines[1].startswith("CANONE_SECRET_KEY=")
    assert len(lines[1].partition("=")[2]) == 43  # 32 random bytes, URL-safe base64
    run = subprocess.run([sys.executable, "-m", "canone", "serve", "--port", "1"], cwd=tmp_path,
                         env={**without, "CANONE_TEST_MODE": "0"}, capture_output=True,
                         text=True, timeout=120)
    assert "CANONE_SECRET_KEY" not in run.stderr  # read from .env: on to the next check
    assert "canone db upgrade" in run.stderr


def test_the_web_app_factory_refuses_to_start_without_a_secret_outside_test_mode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What uvicorn calls in each worker (`canone serve`, or uvicorn run by hand)."""
    from canone.web.app import app_from_env

    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("CANONE_SECRET_KEY", raising=False)
    monkeypatch.setenv("CANONE_TEST_MODE", "0")

    with pytest.raises(SystemExit, match=r"^error: CANONE_SECRET_KEY is not set: "):
        app_from_env()


def test_a_fake_vies_is_refused_outside_test_mode(env) -> None:
    assert canone(env, "db", "upgrade").returncode == 0
    run = canone({**env, "CANONE_TEST_MODE": "0", "CANONE_VIES": "fake"}, "billing", "run")
    assert run.returncode == 1
    assert "error: CANONE_VIES=fake confirms any VAT id and is for test mode only" in run.stderr
    assert "Traceback" not in run.stderr
