"""Services on a real database (SQLite and PostgreSQL) and on the in-memory store, the
sandbox card network and a test clock that the tests move."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from canone.billing.configuration import Configuration
from canone.billing.parties import BillingDetails
from canone.db.database import Database
from canone.integrations.vies import FakeVies
from canone.services import accounts, collection, renewal, signups
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.services.ports import Card, Clock
from canone.services.records import User
from canone.services.sellers import seller_in_effect
from clocks import TestClock
from dbfixtures import WITH_MEMORY, on_backend
from wiring import services_on

GOOD_CARD = Card("4242424242424242", 12, 2035, "123")
DECLINED_CARD = Card("4000000000000002", 12, 2035, "123")
NO_FUNDS_CARD = Card("4000000000009995", 12, 2035, "123")
TIMEOUT_CARD = Card("4000000000000119", 12, 2035, "123")

SUPPORT = Actor(STAFF, "staff:sam@canone.test")


@pytest.fixture(autouse=True)
def _batches_must_not_fall_back(request: pytest.FixtureRequest,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The billing run renews and settles in batches, and falls back to one row at a time
    only when a batch cannot be written (a conflict): that must not happen silently in
    tests that do not ask for it (`allow_fallback`), or a broken batch would go unseen."""
    if "allow_fallback" in request.fixturenames:
        return
    renew_batch = renewal._renew_batch

    def strict_renew_batch(*args: Any, **kwargs: Any) -> Any:
        try:
            return renew_batch(*args, **kwargs)
        except Exception as exc:
            pytest.fail(f"a batch of renewals fell back to one by one: {exc!r}")

    def no_settle_fallback(*args: Any, **kwargs: Any) -> None:
        pytest.fail("a batch of collections fell back to settling one by one")

    monkeypatch.setattr(renewal, "_renew_batch", strict_renew_batch)
    monkeypatch.setattr(collection, "settle", no_settle_fallback)


@pytest.fixture
def allow_fallback() -> None:
    """Let the billing run fall back from batches to one row at a time."""


@pytest.fixture
def clock() -> TestClock:
    return TestClock(datetime(2026, 4, 1, 9, 0, tzinfo=UTC))


def make_services(database: Database, clock: Clock, gateway_path: Path) -> Services:
    return services_on(database, clock, gateway_path)


@pytest.fixture(params=WITH_MEMORY)
def database(request: pytest.FixtureRequest) -> Database:
    """A migrated, empty database on SQLite and on PostgreSQL, and the in-memory store: the
    services see only the port, and their tests run on all three (but those marked `sql`)."""
    return on_backend(request)


@pytest.fixture
def svc(database: Database, clock: TestClock, tmp_path: Path) -> Services:
    return make_services(database, clock, tmp_path / "sandbox.db")


@pytest.fixture
def taxed(svc: Services) -> Services:
    """Services with the demo seller (Italian, OSS-registered: SPEC §8) and the test VIES,
    which confirms every VAT id with a valid checksum."""
    return dataclasses.replace(svc, seller=seller_in_effect(None), vies=FakeVies())


@pytest.fixture
def pg_svc(postgres_database: Database, clock: TestClock, tmp_path: Path) -> Services:
    return make_services(postgres_database, clock, tmp_path / "sandbox.db")


def config(product: str = "marketing", tier: str = "plus", interval: str = "month",
           currency: str = "USD", contacts: int | None = 1000, seats: int = 1,
           addons: tuple[str, ...] = ()) -> Configuration:
    return Configuration(product, tier, interval, currency, contacts, seats, addons)


def sign_up(svc: Services, plan: Configuration | None = None, *, email: str = "ada@example.com",
            timezone: str = "UTC", card: Card = GOOD_CARD, anchor: date | None = None,
            locale: str = "en", details: BillingDetails | None = None) -> signups.SignedUp:
    plan = plan or config()
    return signups.sign_up(svc, signups.SignUp(
        name="Ada's Shop", timezone=timezone, locale=locale, currency=plan.currency,
        admin_email=email, admin_name="Ada Lovelace", admin_password="correct horse",
        config=plan, card=card, anchor=anchor, billing_details=details))


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- reading state back through the store ---------------------------------------------------


def admin_of(svc: Services, account_id: str) -> Actor:
    """The account's primary admin, signed in."""
    with svc.database.transaction() as store:
        admin = next(u for u in store.people.users_of(account_id) if u.role == "primary_admin")
    return Actor.of_user(admin)


def add_person(svc: Services, account_id: str, email: str, role: str = "user",
               billing: bool = False) -> User:
    return accounts.add_user(svc, admin_of(svc, account_id), account_id, email, "Someone",
                             "long enough", role, billing)


@pytest.fixture
def signed(svc: Services) -> Iterator[signups.SignedUp]:
    """Ada's account: marketing plus, 1,000 contacts, 1 seat, monthly, from 1 April 2026."""
    yield sign_up(svc)
