"""End-to-end set-up: a real uvicorn server on a free localhost port, a migrated SQLite
file, the sandbox card network, an advanceable clock, and Debian's Chromium driven by
Playwright (never `playwright install`: the browser is /usr/bin/chromium).

Every test signs up accounts of its own through the services, so tests share the server
but no state; the clock is put back to `BASE` before each test.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from canone.billing.configuration import Configuration
from canone.billing.parties import BillingDetails
from canone.billing.seller import Seller
from canone.db.database import Database
from canone.integrations.einvoice.fatturapa import FatturaPaBuilder
from canone.integrations.einvoice.folder import FolderOutbox
from canone.integrations.einvoice.rates import load_rates
from canone.integrations.payments import SandboxGateway
from canone.integrations.vies import FakeVies
from canone.services import accounts, signups
from canone.services.access import Actor
from canone.services.context import Services, new_id
from canone.services.einvoicing import EInvoicing
from canone.services.ports import Card
from canone.services.records import ADMIN, USER, Staff
from canone.services.sellers import seller_in_effect
from canone.settings import Settings
from canone.web.app import create_app
from clocks import TestClock
from wiring import services_on

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Day 16 of a 30-day April period: 15 days remain, as in SPEC §4's example.
BASE = datetime(2026, 4, 16, 8, 0, tzinfo=UTC)
ANCHOR = BASE.date().replace(day=1)
GOOD_CARD = Card("4242424242424242", 12, 2035, "123")
DECLINED_CARD = Card("4000000000000002", 12, 2035, "123")
PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class Server:
    url: str
    services: Services
    clock: TestClock
    gateway: SandboxGateway


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(folder: Path, seller: Seller | None = None, files: bool = False
           ) -> Iterator[Server]:
    database = Database(f"sqlite:///{folder / 'canone.db'}")
    database.migrate()
    clock = TestClock(BASE)
    gateway = SandboxGateway(folder / "sandbox.db", clock)  # the tests read its charges
    services = services_on(database, clock, gateway.path, secret=secrets.token_hex(16),
                           gateway=gateway, vies=FakeVies() if seller else None,
                           seller=seller)
    if seller is not None and files:  # FatturaPA files, handed to folder/sdi
        rates = load_rates(None)
        services = dataclasses.replace(services, einvoicing=EInvoicing(
            seller, FatturaPaBuilder(rates), FolderOutbox(folder / "sdi"), rates))
    settings = Settings(database_url=database.url, sandbox_path=str(folder / "sandbox.db"))
    with run_server(settings, services) as url:
        yield Server(url, services, clock, gateway)
    database.dispose()


@contextmanager
def run_server(settings: Settings, services: Services) -> Iterator[str]:
    """canone served by uvicorn in a thread on a free port, until the block ends: its URL."""
    port = _free_port()
    config = uvicorn.Config(create_app(settings, services), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app without a seller: amounts stay net, as SPEC §4's examples give them."""
    yield from _serve(tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="session")
def taxed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with the demo seller (SPEC §8: documents are taxed) and the test VIES."""
    yield from _serve(tmp_path_factory.mktemp("e2e-taxed"), seller_in_effect(None))


@pytest.fixture(scope="session")
def filing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with the demo seller filing e-invoices: every document has its FatturaPA
    file, handed to the SDI folder `<its folder>/sdi` (sign-up asks for billing details)."""
    yield from _serve(tmp_path_factory.mktemp("e2e-filing"), seller_in_effect(None), True)


@pytest.fixture(autouse=True)
def _clock_at_base(server: Server) -> None:
    server.clock.instant = BASE


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """argon2 at its cheapest: sign-ups stay fast, hashes stay real."""
    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    accounts._hasher = saved


@dataclass
class Seeded:
    account_id: str
    email: str
    admin_email: str  # an admin without the billing permission ("" below 3 seats)
    user_email: str  # "" below 3 seats
    card_token: str


def seed(server: Server, *, product: str = "marketing", tier: str = "plus",
         contacts: int | None = 1000, seats: int = 1, addons: tuple[str, ...] = (),
         interval: str = "month", currency: str = "USD", locale: str = "en",
         name: str = "Acme Inc.", admin_name: str = "Ada Lovelace",
         active_users: int = 0, details: BillingDetails | None = None) -> Seeded:
    """A new account signed up through the services (first period charged); with 3 seats
    or more, also an admin without billing permission and a plain user (each person takes
    a seat: seats are never fewer than active users)."""
    tag = secrets.token_hex(4)
    email = f"ada-{tag}@example.com"
    svc = server.services
    config = Configuration(product, tier, interval, currency, contacts, seats, addons)
    done = signups.sign_up(svc, signups.SignUp(
        name=name, timezone="Europe/Rome", locale=locale, currency=currency,
        admin_email=email, admin_name=admin_name, admin_password=PASSWORD, config=config,
        card=GOOD_CARD, anchor=ANCHOR, billing_details=details))
    actor = Actor.of_user(_user(svc, email))
    admin_email = user_email = ""
    if seats >= 3:
        admin_email, user_email = f"bob-{tag}@example.com", f"cy-{tag}@example.com"
        accounts.add_user(svc, actor, done.account.id, admin_email, "Bob Admin", PASSWORD,
                          ADMIN)
        accounts.add_user(svc, actor, done.account.id, user_email, "Cy User", PASSWORD, USER)
    assert done.account.card is not None
    return Seeded(done.account.id, email, admin_email, user_email, done.account.card.token)


def italian(server: Server, **overrides: object) -> Seeded:
    """An Italian account in euros: Rossi S.r.l., Giulia Rossi its primary admin."""
    return seed(server, currency="EUR", locale="it", name="Rossi S.r.l.",
                admin_name="Giulia Rossi", **overrides)  # type: ignore[arg-type]


def _user(svc: Services, email: str):  # type: ignore[no-untyped-def]
    with svc.database.transaction() as store:
        return store.people.user_by_email(email)


def add_staff(server: Server) -> str:
    email = f"sam-{secrets.token_hex(4)}@canone.test"
    with server.services.database.transaction() as store:
        store.people.add_staff(Staff(new_id("stf"), email, "Sam Support",
                                     accounts.hash_password(PASSWORD)))
    return email


# -- the browser -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


def _without_csp_violations(context):  # type: ignore[no-untyped-def]
    """The context's page, failing the test if the browser blocked anything under the
    pages' Content-Security-Policy (an inline style or script, another site's file)."""
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not violations, f"blocked by the Content-Security-Policy: {violations}"


# Assertions wait as long as actions do: a price or a page loaded on a busy 2-core machine
# (two test workers, the server and Chromium) can take more than expect's own 5 s.
expect.set_options(timeout=10_000)


DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


def pages_of(browser, url: str, **options):  # type: ignore[no-untyped-def]
    """A page of a new browser context on the server at `url` (a fixture's body)."""
    context = browser.new_context(base_url=url, **options)
    context.set_default_timeout(10_000)
    yield from _without_csp_violations(context)


@pytest.fixture
def page(browser, server: Server):  # type: ignore[no-untyped-def]
    yield from pages_of(browser, server.url, **DESKTOP)


@pytest.fixture
def phone(browser, server: Server):  # type: ignore[no-untyped-def]
    yield from pages_of(browser, server.url, viewport={"width": 390, "height": 844},
                        device_scale_factor=2, is_mobile=True, has_touch=True, locale="it-IT")


def shot(page, name: str, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A screenshot of the page state, kept under test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = str(ARTIFACTS / f"{name}.png")
    try:
        page.screenshot(path=path, full_page=full_page)
    except PlaywrightError as exc:
        # Chromium sometimes cannot capture a frame still being painted on a busy machine
        # ("Unable to capture screenshot"); the picture is for people, so take it again
        # once the page has loaded, and let any other error fail the test.
        if "Unable to capture screenshot" not in str(exc):
            raise
        page.wait_for_load_state("load")
        page.screenshot(path=path, full_page=full_page)


def sign_in(page, email: str, lang: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login" + (f"?lang={lang}" if lang else ""))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def signed_in(page, account: Seeded) -> Seeded:  # type: ignore[no-untyped-def]
    """The account, its primary admin signed in on `page`."""
    sign_in(page, account.email)
    return account


def review_form(dialog) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A review dialog's quote token and CSRF token, to post its confirmation directly."""
    return {name: dialog.locator(f"input[name={name}]").input_value() for name in ("token", "csrf")}


def open_dialog(button):  # type: ignore[no-untyped-def]
    """Clicks a button that opens a dialog (its `data-open` names it): that dialog."""
    dialog = button.page.locator("#" + button.get_attribute("data-open"))
    button.click()
    return dialog


