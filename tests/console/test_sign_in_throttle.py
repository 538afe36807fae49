"""Sign-in throttling on the sign-in page: after a few wrong passwords, 429 with
Retry-After and a wait that grows, per account and per client address, timed by a clock
the tests move."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canone.services.context import Services
from canone.services.throttle import PER_ACCOUNT, SignInThrottle, address_key
from canone.settings import Settings
from canone.web import auth
from canone.web.app import create_app
from clocks import TestClock

from .conftest import NOW, PASSWORD, STAFF_EMAIL, customer


@pytest.fixture
def wall() -> TestClock:
    """The sign-in throttle's clock (not the billing clock)."""
    return TestClock(NOW)


@pytest.fixture
def app(svc: Services, wall: TestClock) -> FastAPI:
    settings = Settings(database_url="sqlite://", secret_key="test-secret")
    return create_app(settings, svc, sign_in_clock=wall)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A browser at one address."""
    with TestClient(app, client=("198.51.100.7", 50000)) as http:
        yield http


def attempt(http: TestClient, email: str, password: str) -> httpx.Response:
    form = http.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    return http.post("/login", data={"email": email, "password": password,
                                      "csrf": token.group(1), "next": ""},
                     follow_redirects=False)


def statuses(http: TestClient, email: str, password: str, times: int) -> list[int]:
    return [attempt(http, email, password).status_code for _ in range(times)]


def test_five_wrong_passwords_then_429_with_retry_after_even_for_the_right_one(
        svc: Services, browser: TestClient, wall: TestClock) -> None:
    ada = customer(svc)

    assert statuses(browser, ada.email, "wrong guess 1", 5) == [401] * 5
    refused = attempt(browser, ada.email, PASSWORD)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Too many attempts to sign in. Try again in 1 minute." in refused.text
    assert "canone_session" not in refused.cookies
    wall.advance(seconds=59)
    assert attempt(browser, ada.email, PASSWORD).headers["Retry-After"] == "1"
    wall.advance(seconds=1)
    assert attempt(browser, ada.email, PASSWORD).status_code == 303  # the wait is over


def test_the_wait_doubles_with_each_further_failure_up_to_fifteen_minutes(
        svc: Services, browser: TestClient, wall: TestClock) -> None:
    ada = customer(svc)
    statuses(browser, ada.email, "wrong", 5)

    waits = []
    for _ in range(6):
        waits.append(int(attempt(browser, ada.email, "wrong").headers["Retry-After"]))
        wall.advance(seconds=waits[-1])
        assert attempt(browser, ada.email, "wrong").status_code == 401

    assert waits == [60, 120, 240, 480, 900, 900]


def test_success_resets_the_accounts_count(svc: Services, browser: TestClient) -> None:
    ada = customer(svc)

    assert statuses(browser, ada.email, "wrong", 4) == [401] * 4
    assert attempt(browser, ada.email, PASSWORD).status_code == 303
    assert statuses(browser, ada.email, "wrong", 4) == [401] * 4  # four more free failures
    assert attempt(browser, ada.email, "wrong").status_code == 401
    assert attempt(browser, ada.email, "wrong").status_code == 429


def test_another_account_from_another_address_is_unaffected(
        svc: Services, app: FastAPI, browser: TestClient) -> None:
    ada, bob = customer(svc), customer(svc)
    statuses(browser, ada.email, "wrong", 5)
    assert attempt(browser, ada.email, PASSWORD).status_code == 429

    with TestClient(app, client=("203.0.113.50", 40000)) as elsewhere:
        assert attempt(elsewhere, bob.email, PASSWORD).status_code == 303
        # ... while the account under attack stays closed from every address.
        assert attempt(elsewhere, ada.email, PASSWORD).status_code == 429


def test_one_address_guessing_many_accounts_is_stopped(
        svc: Services, app: FastAPI, browser: TestClient) -> None:
    for n in range(20):  # spread so that no account reaches its own limit
        assert attempt(browser, f"guess{n}@example.com", "wrong").status_code == 401

    assert attempt(browser, STAFF_EMAIL, PASSWORD).status_code == 429
    with TestClient(app, client=("203.0.113.50", 40000)) as elsewhere:
        assert attempt(elsewhere, STAFF_EMAIL, PASSWORD).status_code == 303


def test_throttled_attempts_check_no_password(svc: Services, browser: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ada = customer(svc)
    statuses(browser, ada.email, "wrong", 5)
    checked: list[str] = []
    monkeypatch.setattr("canone.web.auth.check_password",
                        lambda svc, email, password: checked.append(email))

    assert statuses(browser, ada.email, "wrong", 3) == [429] * 3
    assert checked == []


def test_the_italian_page_says_so_in_italian(svc: Services, browser: TestClient) -> None:
    ada = customer(svc)
    browser.get("/login?lang=it")
    statuses(browser, ada.email, "sbagliata", 5)

    refused = attempt(browser, ada.email, "sbagliata")

    assert refused.status_code == 429
    assert "Troppi tentativi di accesso. Riprova tra 1 minuto." in refused.text


# -- the rule itself ------------------------------------------------------------------------


def test_failures_older_than_an_hour_are_forgotten() -> None:
    clock = TestClock(NOW)
    limits = SignInThrottle(clock)
    for _ in range(4):
        limits.failed("ada@example.com", "198.51.100.7")

    clock.advance(hours=1)
    limits.failed("ADA@example.com ", "198.51.100.7")

    assert limits.seconds_to_wait("ada@example.com", "192.0.2.1") == 0
    assert [PER_ACCOUNT.wait_after(n).total_seconds() for n in (4, 5, 6, 9, 10, 60)] == [
        0, 60, 120, 900, 900, 900]


def test_ipv6_clients_are_counted_by_their_64_and_memory_is_bounded() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == (
        "2001:db8:1:2::/64")
    assert address_key("::ffff:198.51.100.7") == "198.51.100.7"
    limits = SignInThrottle(TestClock(NOW), capacity=10)
    for n in range(100):
        limits.failed(f"user{n}@example.com", "198.51.100.7")

    assert len(limits._failures) == 10


def test_password_checks_run_off_the_event_loop_at_most_four_at_once() -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def check(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)  # argon2's work
        with lock:
            running -= 1
        return threading.get_ident()

    async def sign_ins() -> tuple[int, list[int]]:
        return threading.get_ident(), list(await asyncio.gather(
            *(auth.checking_passwords(check, n) for n in range(12))))

    # In a thread of its own: a browser test run earlier in this process leaves Playwright's
    # event loop running in the main thread, where asyncio.run refuses to start another.
    with ThreadPoolExecutor(1) as own:
        loop_thread, check_threads = own.submit(asyncio.run, sign_ins()).result()

    assert loop_thread not in check_threads
    assert peak == 4
