"""Services for the tests, made by the one `bootstrap.build_services` the app and the CLI
use: the test's database and clock, the sandbox card network in `sandbox` (a file of the
test's own), no VIES unless a test gives one (no VAT id is confirmed) and no seller unless
a test gives one (SPEC §8: documents stay net, as SPEC §4's amounts are), and no FatturaPA
files unless a test sets up e-invoicing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from canone.bootstrap import build_services
from canone.db.database import Database
from canone.services.context import Services
from canone.services.ports import Clock
from canone.settings import Settings


def services_on(database: Database, clock: Clock, sandbox: Path | str, *,
                secret: str = "test-secret", **adapters: Any) -> Services:
    settings = Settings(secret_key=secret, sandbox_path=str(sandbox))
    return build_services(settings, database, clock=clock,
                          **{"vies": None, "seller": None, "einvoicing": None, **adapters})
