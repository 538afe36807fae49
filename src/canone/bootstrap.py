"""The one place where the real adapters are wired to the services."""

from __future__ import annotations

from canone.billing.catalog import Catalog, default_catalog, load_catalog
from canone.db.clock import StoredTestClock, SystemClock
from canone.db.database import Database
from canone.integrations.payments import SandboxGateway
from canone.services.context import Services
from canone.services.ports import Clock
from canone.settings import Settings


def catalog_of(settings: Settings) -> Catalog:
    return load_catalog(settings.catalog) if settings.catalog else default_catalog()


def build_services(settings: Settings, database: Database | None = None) -> Services:
    """Services on the real adapters. In test mode the clock is the stored test clock, which
    `canone clock advance` and `POST /api/v1/test-clock` move forward."""
    database = database or Database(settings.database_url)
    clock: Clock = SystemClock()
    if settings.test_mode:
        clock = StoredTestClock(database, clock)
    return Services(
        database=database,
        clock=clock,
        gateway=SandboxGateway(settings.sandbox_path, clock),
        catalog=catalog_of(settings),
        secret_key=settings.secret_key,
    )
