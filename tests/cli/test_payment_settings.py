"""The payment settings (SPEC §9): the sandbox by default, Stripe only when complete, and
`canone serve` saying which one it uses and, for Stripe, the API version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from canone.bootstrap import gateway_of, payments_line
from canone.integrations.payments import SandboxGateway
from canone.integrations.payments.stripe import StripeGateway
from canone.services.clock import SystemClock
from canone.settings import Settings
from stripefixtures import free_port

STRIPE = {"CANONE_PAYMENTS": "stripe", "CANONE_STRIPE_SECRET_KEY": "sk_test_abc",
          "CANONE_STRIPE_PUBLISHABLE_KEY": "pk_test_abc",
          "CANONE_STRIPE_WEBHOOK_SECRET": "whsec_abc"}


def settings(**env: str) -> Settings:
    return Settings.from_env({"CANONE_DATABASE_URL": "sqlite:///x.db", **env})


def test_the_sandbox_is_the_default_and_needs_no_setting(tmp_path: Path) -> None:
    plain = Settings.from_env({"CANONE_SANDBOX_PATH": str(tmp_path / "s.db")})
    assert plain.payments == "sandbox"
    assert plain.payment_problems() == []
    assert isinstance(gateway_of(plain, SystemClock()), SandboxGateway)


def test_stripe_without_its_keys_names_every_missing_setting() -> None:
    assert settings(CANONE_PAYMENTS="stripe").payment_problems() == [
        "CANONE_STRIPE_SECRET_KEY is required with CANONE_PAYMENTS=stripe",
        "CANONE_STRIPE_PUBLISHABLE_KEY is required with CANONE_PAYMENTS=stripe",
        "CANONE_STRIPE_WEBHOOK_SECRET is required with CANONE_PAYMENTS=stripe",
    ]


def test_an_unknown_payments_value_is_refused() -> None:
    assert settings(CANONE_PAYMENTS="paypal").payment_problems() == [
        "CANONE_PAYMENTS must be 'sandbox' or 'stripe', not 'paypal'"]


def test_keys_of_the_wrong_kind_or_mixed_modes_are_refused() -> None:
    assert settings(**{**STRIPE, "CANONE_STRIPE_SECRET_KEY": "pk_test_abc",
                       "CANONE_STRIPE_WEBHOOK_SECRET": "abc"}).payment_problems() == [
        "CANONE_STRIPE_SECRET_KEY must be a secret key (sk_test_… or sk_live_…)",
        "CANONE_STRIPE_WEBHOOK_SECRET must be a webhook signing secret (whsec_…)",
    ]
    assert settings(**{**STRIPE, "CANONE_STRIPE_PUBLISHABLE_KEY": "pk_live_abc"}
                    ).payment_problems() == [
        "CANONE_STRIPE_SECRET_KEY and CANONE_STRIPE_PUBLISHABLE_KEY mix test and live mode"]


def test_complete_stripe_settings_give_the_stripe_gateway_on_the_sdks_version() -> None:
    complete = settings(**STRIPE)
    assert complete.payment_problems() == []
    gateway = gateway_of(complete, SystemClock())
    assert isinstance(gateway, StripeGateway)
    assert gateway.api_version == stripe.api_version
    pinned = settings(**STRIPE, CANONE_STRIPE_API_VERSION="2024-06-20")
    assert gateway_of(pinned, SystemClock()).api_version == "2024-06-20"  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["CANONE_STRIPE_API_BASE", "CANONE_STRIPE_JS_URL"])
def test_a_fake_stripe_is_accepted_only_in_test_mode_with_test_keys(name: str) -> None:
    refused = f"{name} is accepted only in test mode (CANONE_TEST_MODE=1) with an sk_test_ key"
    fake = {**STRIPE, name: "http://127.0.0.1:8420"}
    assert settings(**fake, CANONE_TEST_MODE="1").payment_problems() == []
    assert settings(**fake).payment_problems() == [refused.replace(" key", " secret key")]
    live = {**fake, "CANONE_STRIPE_SECRET_KEY": "sk_live_abc",
            "CANONE_STRIPE_PUBLISHABLE_KEY": "pk_live_abc", "CANONE_TEST_MODE": "1"}
    assert settings(**live).payment_problems() == [refused.replace(" key", " secret key")]


def test_gateway_of_refuses_incomplete_settings() -> None:
    with pytest.raises(ValueError, match="CANONE_STRIPE_SECRET_KEY is required"):
        gateway_of(settings(CANONE_PAYMENTS="stripe"), SystemClock())


def test_the_start_line_names_the_stripe_api_version_and_mode() -> None:
    assert payments_line(settings(**STRIPE)) == (
        f"payments: Stripe (test mode), API version {stripe.api_version}; the Stripe webhook"
        " endpoint must use this same API version")
    assert payments_line(settings()) == (
        "payments: the sandbox card network at canone-sandbox.db (demos and tests only; no"
        " money moves)")


# -- `canone serve`, run as a user would ---------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CANONE_DATABASE_URL": f"sqlite:///{tmp_path / 'canone.db'}",
            "CANONE_SANDBOX_PATH": str(tmp_path / "sandbox.db"), "PYTHONUNBUFFERED": "1",
            "CANONE_SECRET_KEY": "payment-settings-tests-secret"}


def canone(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "canone", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_serve_refuses_stripe_without_its_webhook_secret(env: dict[str, str]) -> None:
    incomplete = {**env, **STRIPE}
    del incomplete["CANONE_STRIPE_WEBHOOK_SECRET"]
    run = canone(incomplete, "serve", "--port", "1")
    assert run.returncode == 1
    assert run.stderr == ("error: the payment settings are incomplete:\n"
                          "  CANONE_STRIPE_WEBHOOK_SECRET is required with"
                          " CANONE_PAYMENTS=stripe\n")


def first_line_of_serve(env: dict[str, str]) -> str:
    """What the start line ("canone: serving on …", logged once bound) says after the
    address."""
    assert canone(env, "db", "upgrade").returncode == 0
    server = subprocess.Popen([sys.executable, "-m", "canone", "serve", "--port",
                               str(free_port())], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if "canone: serving on" in line:
                return line.rstrip("\n")
        raise AssertionError("canone serve stopped without its start line")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_says_it_uses_stripe_and_which_api_version(env: dict[str, str]) -> None:
    line = first_line_of_serve({**env, **STRIPE})
    assert (f"; payments: Stripe (test mode), API version {stripe.api_version}; the"
            " Stripe webhook endpoint must use this same API version; test mode") in line


def test_serve_with_no_payment_settings_uses_the_sandbox(env: dict[str, str]) -> None:
    line = first_line_of_serve(env)
    assert (f"; payments: the sandbox card network at {env['CANONE_SANDBOX_PATH']} (demos and"
            " tests only; no money moves); test mode") in line
