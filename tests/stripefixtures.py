"""localstripe, the Stripe of the tests: a real server process on a free port.

`localstripe` starts `localstripe --from-scratch` (tests/localstripe_server.py) once per test
session and stops it at the end; `stripe_base` empties its data before each test and gives
its address, which is what `CANONE_STRIPE_API_BASE` points the SDK at. Without localstripe
the tests skip, except under CI=true, where a server that does not start is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
SERVER = Path(__file__).with_name("localstripe_server.py")
TEST_KEY = "sk_test_canone"  # localstripe takes any sk_ key
STARTUP_SECONDS = 20.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalStripe:
    """A running localstripe: its address and a plain HTTP client for its own routes
    (`_authenticate`, `_config`), which the SDK does not know."""

    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.base, auth=(TEST_KEY, ""), timeout=10)

    def answers(self) -> bool:
        try:
            return self.http.get("/v1/balance").status_code == 200
        except httpx.TransportError:
            return False

    def flush(self) -> None:
        self.http.delete("/_config/data").raise_for_status()

    def payment_intents(self) -> list[dict[str, object]]:
        found = self.http.get("/v1/payment_intents", params={"limit": 100})
        found.raise_for_status()
        data: list[dict[str, object]] = found.json()["data"]
        return data

    def card_method(self, number: str, exp_month: int = 12, exp_year: int = 2030) -> str:
        """A card payment method as Stripe Elements makes it in the customer's browser."""
        made = self.http.post("/v1/payment_methods", data={
            "type": "card", "card[number]": number, "card[exp_month]": str(exp_month),
            "card[exp_year]": str(exp_year), "card[cvc]": "123"})
        made.raise_for_status()
        return str(made.json()["id"])

    def sepa_method(self, iban: str) -> str:
        """A SEPA Direct Debit payment method as Stripe Elements makes it (IBAN element)."""
        made = self.http.post("/v1/payment_methods", data={
            "type": "sepa_debit", "sepa_debit[iban]": iban,
            "billing_details[name]": "Officina Verde",
            "billing_details[email]": "owner@officinaverde.example"})
        made.raise_for_status()
        return str(made.json()["id"])

    def authenticate(self, payment_intent: str, client_secret: str, success: bool) -> None:
        """What the customer's bank does at the end of a 3-D Secure challenge."""
        answer = self.http.post(f"/v1/payment_intents/{payment_intent}/_authenticate",
                                data={"client_secret": client_secret,
                                      "success": "true" if success else "false"})
        answer.raise_for_status()

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_localstripe() -> LocalStripe:
    """Start the server and wait until it answers; raise RuntimeError with its output if it
    does not within STARTUP_SECONDS."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--from-scratch", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    server = LocalStripe(port, process)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if server.answers():
            # Its access log would fill the pipe nobody reads: drain it in the background.
            _drain(process)
            return server
        time.sleep(0.1)
    server.stop()
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    raise RuntimeError(f"localstripe did not start on port {port}:\n{output[-2000:]}")


def _drain(process: subprocess.Popen[bytes]) -> None:
    def read() -> None:
        assert process.stdout is not None
        for _ in process.stdout:
            pass

    threading.Thread(target=read, daemon=True).start()


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    try:
        server = start_localstripe()
    except (RuntimeError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"localstripe is needed under CI=true: {exc}")
        pytest.skip(f"localstripe did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def stripe_base(localstripe: LocalStripe) -> str:
    """localstripe emptied for this test; its address for CANONE_STRIPE_API_BASE."""
    localstripe.flush()
    return localstripe.base
