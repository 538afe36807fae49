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
