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
    # The selling company's TOML file (SPEC §8); unset: the demo seller shipped with canone.
    seller: str | None = None
    # A larger request body is refused (413) before it is read.
    max_body_bytes: int = 1_048_576
    # Webhook endpoints on loopback, private, link-local and metadata addresses are refused
    # unless this is set (tests and development: receivers on localhost).
    webhooks_allow_private: bool = False

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
            seller=env.get("CANONE_SELLER") or None,
            max_body_bytes=_bytes(env.get("CANONE_MAX_BODY_BYTES"), cls.max_body_bytes),
            webhooks_allow_private=_yes(env.get("CANONE_WEBHOOKS_ALLOW_PRIVATE", "")),
        )


def _yes(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")


def _bytes(value: str | None, default: int) -> int:
    if not value:
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"CANONE_MAX_BODY_BYTES must be a whole number of bytes, such as "
                         f"{default}; not {value!r}")
    return int(value)
