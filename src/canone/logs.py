"""What the long-running commands (`canone serve`, `canone worker`, `canone mail listen`)
log: canone's own lines at INFO (a start line, one line per request, email or webhook), every
library's (fontTools, fpdf, alembic, uvicorn, aiosmtpd, ...) only from WARNING, so a pass of
the worker is not drowned in font-subsetting and migration notes. Lines go to stderr."""

from __future__ import annotations

import logging.config
from typing import Any
from urllib.parse import urlsplit

from canone.settings import Settings

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(message)s",
                            "datefmt": "%Y-%m-%d %H:%M:%S"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line",
                            "stream": "ext://sys.stderr"}},
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {"canone": {"level": "INFO"}},
}


def configure() -> None:
    logging.config.dictConfig(LOGGING)


def start_line(command: str, text: str) -> None:
    logging.getLogger(f"canone.{command}").info("%s", text)


def database_shown(settings: Settings) -> str:
    """The database URL without its password, for a start line."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show no more than the host part
        return settings.database_url.rsplit("@", 1)[-1]


def setup_shown(settings: Settings) -> str:
    """Database, payments and test mode, as a start line states them."""
    from canone.bootstrap import payments_line

    mode = "ON (test clock, sandbox-only endpoints)" if settings.test_mode else "off"
    return f"database {database_shown(settings)}; {payments_line(settings)}; test mode {mode}"


def mail_shown(settings: Settings) -> str:
    """Where emails go, without the SMTP password."""
    if not settings.smtp_url:
        return "emails printed here (CANONE_SMTP_URL is not set)"
    parts = urlsplit(settings.smtp_url)
    host = parts.hostname or ""
    where = f"{host}:{parts.port}" if parts.port else host
    return f"emails through {parts.scheme}://{where}"
