"""Settings from environment variables (and an optional `.env` file in the working folder)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for raw in path.read_text("utf-8").splitlines():
            line = raw.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip().strip("'\"")
    return values


# Test mode alone may run without a secret of its own: it never holds real money.
TEST_MODE_SECRET = "canone-test-mode-secret"
# The fixed default of earlier versions: anyone could sign quote tokens with it.
OLD_DEFAULT_SECRET = "dev-secret-change-me"
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///canone.db"
    secret_key: str = ""  # CANONE_SECRET_KEY; required outside test mode (`secret_problem`)
    smtp_url: str | None = None
    test_mode: bool = False
    catalog: str | None = None
    # The sandbox card network keeps its own state (cards, charges) in this SQLite file.
    sandbox_path: str = "canone-sandbox.db"
    # The selling company's TOML file (SPEC §8); unset: the demo seller shipped with canone.
    seller: str | None = None
    # E-invoices (SPEC §8): the folder an SDI intermediary collects FatturaPA files from and
    # puts SDI's receipts back into, and a CSV file of ECB reference rates (date,currency,
    # units per euro) for USD documents; unset: the rates shipped for the demo.
    sdi_folder: str = "canone-sdi"
    exchange_rates: str | None = None
    # A larger request body is refused (413) before it is read.
    max_body_bytes: int = 1_048_576
    # Webhook endpoints on loopback, private, link-local and metadata addresses are refused
    # unless this is set (tests and development: receivers on localhost).
    webhooks_allow_private: bool = False
    # SPEC §9: "sandbox" (the embedded default, for demos and tests) or "stripe".
    payments: str = "sandbox"
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_version: str | None = None  # None: the version the installed SDK pins
    # Test mode with sk_test_ keys only: localstripe's API and fake Stripe.js.
    stripe_api_base: str | None = None
    stripe_js_url: str | None = None
    # How EU VAT ids are confirmed (SPEC §8): "eu", the EU's VIES service (default), or
    # "fake", which confirms every checksum-valid id (test mode only).
    vies: str = "eu"
    # Emails: who they come from, where replies go, and the address of the web app that
    # their links (the Billing & Upgrade page) point to.
    mail_from: str = "canone <billing@canone.invalid>"
    mail_reply_to: str | None = None
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = {**_dotenv(Path(".env")), **(os.environ if environ is None else environ)}
        test_mode = env.get("CANONE_TEST_MODE", "") in ("1", "true", "yes")
        return cls(
            database_url=env.get("CANONE_DATABASE_URL") or cls.database_url,
            secret_key=env.get("CANONE_SECRET_KEY") or (TEST_MODE_SECRET if test_mode else ""),
            smtp_url=env.get("CANONE_SMTP_URL") or None,
            test_mode=test_mode,
            catalog=env.get("CANONE_CATALOG") or None,
            sandbox_path=env.get("CANONE_SANDBOX_PATH") or cls.sandbox_path,
            seller=env.get("CANONE_SELLER") or None,
            sdi_folder=env.get("CANONE_SDI_FOLDER") or cls.sdi_folder,
            exchange_rates=env.get("CANONE_EXCHANGE_RATES") or None,
            max_body_bytes=_bytes(env.get("CANONE_MAX_BODY_BYTES"), cls.max_body_bytes),
            webhooks_allow_private=_yes(env.get("CANONE_WEBHOOKS_ALLOW_PRIVATE", "")),
            payments=(env.get("CANONE_PAYMENTS") or cls.payments).strip().lower(),
            stripe_secret_key=env.get("CANONE_STRIPE_SECRET_KEY") or None,
            stripe_publishable_key=env.get("CANONE_STRIPE_PUBLISHABLE_KEY") or None,
            stripe_webhook_secret=env.get("CANONE_STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_version=env.get("CANONE_STRIPE_API_VERSION") or None,
            stripe_api_base=env.get("CANONE_STRIPE_API_BASE") or None,
            stripe_js_url=env.get("CANONE_STRIPE_JS_URL") or None,
            vies=env.get("CANONE_VIES") or cls.vies,
            mail_from=env.get("CANONE_MAIL_FROM") or cls.mail_from,
            mail_reply_to=env.get("CANONE_MAIL_REPLY_TO") or None,
            public_url=(env.get("CANONE_PUBLIC_URL") or cls.public_url).rstrip("/"),
        )

    def secret_problem(self) -> str | None:
        """Why the secret key will not do for serving (None: it will). Outside test mode it
        must be set: with a known secret anyone can sign quote tokens."""
        if self.test_mode:
            return None
        make = ("`make run` writes a random one into .env; or set one made with "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        if not self.secret_key:
            return f"CANONE_SECRET_KEY is not set: {make}"
        if self.secret_key == OLD_DEFAULT_SECRET:
            return f"CANONE_SECRET_KEY is the old public default: replace it ({make})"
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            return (f"CANONE_SECRET_KEY is too short ({len(self.secret_key)} characters, at "
                    f"least {MIN_SECRET_LENGTH}): {make}")
        return None

    def payment_problems(self) -> list[str]:
        """What keeps the payment settings from working, one message per setting (empty
        when they are fine). The sandbox needs nothing."""
        if self.payments == "sandbox":
            return []
        if self.payments != "stripe":
            return [f"CANONE_PAYMENTS must be 'sandbox' or 'stripe', not {self.payments!r}"]
        problems = [f"{name} is required with CANONE_PAYMENTS=stripe"
                    for name, value in self._stripe_required() if not value]
        problems += _key_problems(self.stripe_secret_key, self.stripe_publishable_key,
                                  self.stripe_webhook_secret)
        for name, value in (("CANONE_STRIPE_API_BASE", self.stripe_api_base),
                            ("CANONE_STRIPE_JS_URL", self.stripe_js_url)):
            if value and not (self.test_mode and _is_test_key(self.stripe_secret_key)):
                problems.append(f"{name} is accepted only in test mode (CANONE_TEST_MODE=1)"
                                " with an sk_test_ secret key")
            elif value and not value.startswith(("http://", "https://")):
                problems.append(f"{name} must be an http:// or https:// address")
        return problems

    def _stripe_required(self) -> list[tuple[str, str | None]]:
        return [("CANONE_STRIPE_SECRET_KEY", self.stripe_secret_key),
                ("CANONE_STRIPE_PUBLISHABLE_KEY", self.stripe_publishable_key),
                ("CANONE_STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secret)]


def _is_test_key(key: str | None) -> bool:
    return bool(key) and str(key).startswith(("sk_test_", "rk_test_"))


def _key_problems(secret: str | None, publishable: str | None, webhook: str | None) -> list[str]:
    """Keys of the wrong kind, or test and live keys mixed: caught at start, not at the
    first payment."""
    problems = []
    if secret and not secret.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        problems.append("CANONE_STRIPE_SECRET_KEY must be a secret key (sk_test_… or sk_live_…)")
    if publishable and not publishable.startswith(("pk_test_", "pk_live_")):
        problems.append("CANONE_STRIPE_PUBLISHABLE_KEY must be a publishable key"
                        " (pk_test_… or pk_live_…)")
    if webhook and not webhook.startswith("whsec_"):
        problems.append("CANONE_STRIPE_WEBHOOK_SECRET must be a webhook signing secret"
                        " (whsec_…)")
    if (secret and publishable and secret.startswith(("sk_", "rk_"))
            and publishable.startswith("pk_")
            and _is_test_key(secret) != publishable.startswith("pk_test_")):
        problems.append("CANONE_STRIPE_SECRET_KEY and CANONE_STRIPE_PUBLISHABLE_KEY mix test"
                        " and live mode")
    return problems


def _yes(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")


def _bytes(value: str | None, default: int) -> int:
    if not value:
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"CANONE_MAX_BODY_BYTES must be a whole number of bytes, such as "
                         f"{default}; not {value!r}")
    return int(value)
