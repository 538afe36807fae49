"""`canone worker --once` and `canone mail listen`, run as commands against a database file."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canone import logs
from canone.cli import app
from canone.db.database import Database
from canone.services import requests
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.settings import Settings
from clocks import TestClock
from integrations.smtp_server import SmtpTestServer, free_port
from wiring import services_on

from .support import START, outbox_rows, sign_up


@pytest.fixture
def environment(sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> dict[str, str]:
    env = {"CANONE_DATABASE_URL": sqlite_database.url,
           "CANONE_SANDBOX_PATH": str(tmp_path / "sandbox.db"),
           "CANONE_SMTP_URL": ""}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return env


@pytest.fixture
def file_svc(sqlite_database: Database, tmp_path: Path) -> Services:
    """Services on the SQLite file the commands use (SQLite only: one backend suffices)."""
    clock = TestClock(START)
    return services_on(sqlite_database, clock, tmp_path / "sandbox.db")


def test_worker_once_sends_the_queued_emails(environment, sqlite_database, file_svc,
                                            monkeypatch):
    sign_up(file_svc)
    monkeypatch.setenv("CANONE_MAIL_FROM", "ACME Billing <billing@acme.example>")
    monkeypatch.setenv("CANONE_MAIL_REPLY_TO", "help@acme.example")
    monkeypatch.setenv("CANONE_PUBLIC_URL", "https://billing.acme.example")
    with SmtpTestServer() as smtp:
        monkeypatch.setenv("CANONE_SMTP_URL", smtp.url)
        result = CliRunner().invoke(app, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert "emails: sent 1, retrying 0, failed 0; webhooks: delivered 0" in result.output
        [received] = smtp.messages
    message = received.message
    assert message["Subject"] == "Welcome: your Marketing Plus plan is active, invoice 2026-000001"
    assert (message["From"], message["Reply-To"]) == ("ACME Billing <billing@acme.example>",
                                                      "help@acme.example")
    assert received.mail_from == "billing@acme.example"
    assert "Billing & Upgrade: https://billing.acme.example/billing" in message.get_body(
        ("plain",)).get_content()
    assert [row["status"] for row in outbox_rows(sqlite_database)] == ["sent"]


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("CANONE_MAIL_FROM", "billing", "must be an address like 'Billing <billing@example.com>'"),
    ("CANONE_MAIL_REPLY_TO", "a@b.example\nBcc: x@y.example",
     "must not contain control characters"),
])
def test_worker_refuses_a_sender_setting_that_is_no_address(environment, name, value, problem,
                                                           monkeypatch):
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["worker", "--once"])
    assert result.exit_code == 1
    assert f"error: {name}: {value!r} {problem}" in result.output


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"canone mail listen exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("canone mail listen did not start listening")


def test_mail_listen_turns_the_primary_admins_email_into_a_request(
        environment, file_svc):
    account = sign_up(file_svc).account
    port = free_port()
    canone = Path(sys.executable).with_name("canone")
    process = subprocess.Popen(
        [str(canone), "mail", "listen", "--port", str(port)],
        env={**os.environ, **environment}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process)
        message = EmailMessage()
        message["From"] = "ada@example.com"
        message["To"] = "support@canone.example"
        message["Subject"] = "More seats"
        message.set_content("Two more seats, please.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)

    [request] = requests.requests_of(file_svc, Actor(STAFF, "staff:sam"), account.id)
    assert (request.source, request.verified) == ("email", False)
    assert request.message == "More seats\n\nTwo more seats, please."
    assert f"listening on 127.0.0.1:{port}" in output.decode()


LOG_LINE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO "


def test_worker_logs_a_start_line_and_one_line_per_email_nothing_from_libraries(
        environment, file_svc):
    """Each email has a PDF (fontTools subsets its fonts, with INFO notes of its own): the
    log says what the worker did, not what the libraries did."""
    sign_up(file_svc)
    sign_up(file_svc, email="bea@example.com", locale="it")
    canone = Path(sys.executable).with_name("canone")
    with SmtpTestServer() as smtp:
        run = subprocess.run([str(canone), "worker", "--once"], capture_output=True,
                             text=True, timeout=300,
                             env={**os.environ, **environment, "CANONE_SMTP_URL": smtp.url})
        assert len(smtp.messages) == 2
    assert run.returncode == 0, run.stderr
    start, *sent = run.stderr.splitlines()
    assert re.fullmatch(
        LOG_LINE + r"canone worker: emails and webhooks, one pass; database sqlite:///\S+; "
        r"payments: the sandbox card network at \S+ \(demos and tests only; no money moves\); "
        r"test mode off; emails through "
        r"smtp://127\.0\.0\.1:\d+", start), start
    assert sorted(re.sub(LOG_LINE, "", line).split(" (")[0] for line in sent) == [
        "email sent: signup_confirmation to ada@example.com",
        "email sent: signup_confirmation to bea@example.com"]
    assert run.stdout.splitlines() == [
        "emails: sent 2, retrying 0, failed 0; webhooks: delivered 0, retrying 0"]


def test_the_start_line_shows_no_password() -> None:
    shown = logs.setup_shown(Settings(database_url="postgresql://canone:s3cret@db:5432/billing"))
    assert "s3cret" not in shown
    assert shown.startswith("database postgresql://canone:***@db:5432/billing;")
    mail = logs.mail_shown(Settings(smtp_url="smtp://user:s3cret@mail.example:587?starttls=1"))
    assert mail == "emails through smtp://mail.example:587"
