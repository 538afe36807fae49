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


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///canone.db"
    secret_key: str = "dev-secret-change-me"
    smtp_url: str | None = None
    test_mode: bool = False
    catalog: str | None = None
    # The sandbox card network keeps its own state (cards, charges) in this SQLite file.
    sandbox_path: str = "canone-sandbox.db"
    # Emails: who they come from, where replies go, and the address of the web app that
    # their links (the Billing & Upgrade page) point to.
    mail_from: str = "canone <billing@canone.invalid>"
    mail_reply_to: str | None = None
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = {**_dotenv(Path(".env")), **(os.environ if environ is None else environ)}
        return cls(
            database_url=env.get("CANONE_DATABASE_URL") or cls.database_url,
            secret_key=env.get("CANONE_SECRET_KEY") or cls.secret_key,
            smtp_url=env.get("CANONE_SMTP_URL") or None,
            test_mode=env.get("CANONE_TEST_MODE", "") in ("1", "true", "yes"),
            catalog=env.get("CANONE_CATALOG") or None,
            sandbox_path=env.get("CANONE_SANDBOX_PATH") or cls.sandbox_path,
            mail_from=env.get("CANONE_MAIL_FROM") or cls.mail_from,
            mail_reply_to=env.get("CANONE_MAIL_REPLY_TO") or None,
            public_url=(env.get("CANONE_PUBLIC_URL") or cls.public_url).rstrip("/"),
        )
