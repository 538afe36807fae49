"""The one place where the real adapters are wired to the services."""

from __future__ import annotations

from canone.billing.catalog import Catalog, default_catalog, load_catalog
from canone.billing.errors import DataFileError
from canone.db.clock import StoredTestClock, SystemClock
from canone.db.database import Database
from canone.integrations.payments import SandboxGateway
from canone.integrations.vies import EuVies, FakeVies
from canone.services.context import Services
from canone.services.ports import Clock
from canone.services.sellers import seller_in_effect
from canone.services.vies import Vies
from canone.settings import Settings


def catalog_of(settings: Settings) -> Catalog:
    return load_catalog(settings.catalog) if settings.catalog else default_catalog()


class SettingsError(ValueError):
    """A setting that cannot be used as given; the message names it."""


def vies_of(settings: Settings) -> Vies:
    if settings.vies == "fake":
        if not settings.test_mode:
            raise SettingsError("CANONE_VIES=fake confirms any VAT id and is for test mode "
                                "only (CANONE_TEST_MODE=1); unset it to ask the EU's VIES")
        return FakeVies()
    if settings.vies != "eu":
        raise SettingsError(f"CANONE_VIES={settings.vies!r}: allowed: eu (default), fake")
    # The seller as the requester, so that VIES answers with a consultation number (a demo
    # seller's made-up number would make VIES refuse every question).
    try:
        seller = seller_in_effect(settings.seller)
    except DataFileError as exc:
        raise SettingsError("the seller file has problems:\n  " + "\n  ".join(exc.problems)
                            ) from None
    return EuVies(requester=None if seller.demo else seller.vat_id)


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
        vies=vies_of(settings),
    )
