"""The support console over real HTTP (Starlette's TestClient) on a fresh migrated SQLite
database, the sandbox card network and a clock the tests set.

The clock stands on 16 April 2026 (Europe/Rome): accounts anchored on 1 April are on day 16
of a 30-day period, so 15 days remain — SPEC §4's example."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from canone.billing.configuration import Configuration
from canone.billing.parties import BillingDetails
from canone.db.database import Database
from canone.services import accounts, requests, signups
from canone.services.access import STAFF, Actor
from canone.services.context import Services, new_id
from canone.services.ports import Card
from canone.services.records import ChangeRequest, Staff
from canone.settings import Settings
from canone.web.app import create_app
from clocks import TestClock
from wiring import services_on

NOW = datetime(2026, 4, 16, 8, 0, tzinfo=UTC)
ANCHOR = date(2026, 4, 1)
PASSWORD = "correct horse battery"
STAFF_EMAIL = "sam@canone.test"
SUPPORT = Actor(STAFF, f"staff:{STAFF_EMAIL}")
GOOD_CARD = Card("4242424242424242", 12, 2035, "123")


@pytest.fixture
def svc(sqlite_database: Database, tmp_path: Path) -> Services:
    clock = TestClock(NOW)
    return with_staff(services_on(sqlite_database, clock, tmp_path / "sandbox.db"))


def with_staff(services: Services) -> Services:
    """The services, with the support agent who signs in as STAFF_EMAIL."""
    with services.database.transaction() as store:
        store.people.add_staff(Staff(new_id("stf"), STAFF_EMAIL, "Sam Support",
                                     accounts.hash_password(PASSWORD)))
    return services


@pytest.fixture
def client(svc: Services) -> Iterator[TestClient]:
    settings = Settings(database_url="sqlite://", secret_key="test-secret")
    with TestClient(create_app(settings, svc), base_url="http://testserver") as http:
        yield http


def sign_in(http: TestClient, email: str) -> None:
    """Through the sign-in form, as a browser does it (CSRF cookie and field)."""
    form = http.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None, form.text
    answer = http.post("/login", data={"email": email, "password": PASSWORD,
                                       "csrf": token.group(1), "next": ""},
                       follow_redirects=False)
    assert answer.status_code == 303, answer.text


@pytest.fixture
def staff(client: TestClient) -> TestClient:
    """The client, signed in as the support agent."""
    sign_in(client, STAFF_EMAIL)
    return client


def csrf_of(page_html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page_html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def act(http: TestClient, request_id: str, action: str, message: str = "",
        follow: bool = False) -> object:
    """Press an action button on the request's page (its form, with its CSRF token)."""
    page = http.get(f"/console/requests/{request_id}")
    assert page.status_code == 200, page.text
    return http.post(f"/console/requests/{request_id}",
                     data={"csrf": csrf_of(page.text), "action": action, "message": message},
                     follow_redirects=follow)


def plan(product: str = "marketing", tier: str = "pro", contacts: int | None = 1000,
         seats: int = 1, currency: str = "USD", interval: str = "month",
         addons: tuple[str, ...] = ()) -> Configuration:
    return Configuration(product, tier, interval, currency, contacts, seats, addons)


@dataclass
class Customer:
    account_id: str
    email: str
    actor: Actor


def customer(svc: Services, config: Configuration | None = None, *, name: str = "Acme Inc.",
             locale: str = "en", details: BillingDetails | None = None) -> Customer:
    """A new account on `config`, signed up on 1 April with a good card."""
    config = config or plan()
    email = f"{new_id('ada')}@example.com"
    done = signups.sign_up(svc, signups.SignUp(
        name=name, timezone="Europe/Rome", locale=locale, currency=config.currency,
        admin_email=email, admin_name="Ada Lovelace", admin_password=PASSWORD, config=config,
        card=GOOD_CARD, anchor=ANCHOR, billing_details=details))
    with svc.database.transaction() as store:
        user = store.people.user_by_email(email)
    assert user is not None
    return Customer(done.account.id, email, Actor.of_user(user))


def ask(svc: Services, who: Customer, desired: Configuration | None,
        message: str = "Please change our plan.") -> ChangeRequest:
    """A request from the customer's primary admin, a minute after the previous one."""
    assert isinstance(svc.clock, TestClock)
    svc.clock.advance(minutes=1)
    return requests.create(svc, who.actor, who.account_id, desired, "Budget", message)


def stored_request(svc: Services, request_id: str) -> ChangeRequest:
    with svc.database.transaction() as store:
        found = store.requests.get(request_id)
    assert found is not None
    return found
