"""The support console in a real browser: an agent applies a customer's request and the
customer sees the result on the Billing & Upgrade page; the same in Italian, at period end
and with a decline; a customer who opens the console gets the 403 page.

The server's clock stands on 16 April 2026 and accounts are anchored on 1 April: 15 of
April's 30 days remain, so Pro (79) → Plus (49) applied now credits 39.50 − 24.50 = 15.00.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from canone.billing.configuration import Configuration
from canone.services import requests
from canone.services.access import Actor
from canone.services.records import ChangeRequest

from .conftest import Seeded, Server, add_staff, seed, shot, sign_in, signed_in

EUR = "\u00a0€"  # Babel's it_IT amounts: "15,00 €" with a no-break space


@pytest.fixture
def customer_page(browser: Browser, server: Server) -> Iterator[Page]:
    """A second browser, for the customer, beside the agent's `page`."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900},
                                  locale="en-US")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def ask(server: Server, account: Seeded, desired: Configuration, message: str
        ) -> ChangeRequest:
    """The customer's primary admin asks for `desired` (as "Request account change" does)."""
    with server.services.database.transaction() as store:
        admin = store.people.user_by_email(account.email)
    assert admin is not None
    return requests.create(server.services, Actor.of_user(admin), account.account_id, desired,
                           "tier_lower", message)


def pro(currency: str = "USD") -> Configuration:
    return Configuration("marketing", "pro", "month", currency, 1000, 1)


def test_an_agent_applies_a_request_now_and_the_customer_sees_it(
        page: Page, customer_page: Page, server: Server) -> None:
    name = f"Acme Pro {secrets.token_hex(3)}"
    account = seed(server, tier="pro", name=name)
    ask(server, account, pro().with_(tier="plus"), "Pro is more than we need.")
    agent = add_staff(server)

    sign_in(page, agent)
    expect(page).to_have_url(f"{server.url}/console")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change requests")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.get_by_text("Open", exact=True)).to_be_visible()
    shot(page, "console-queue-en")

    row.get_by_role("link", name="Marketing Plus").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Change request from {name}")
    expect(page.get_by_role("blockquote")).to_have_text("Pro is more than we need.")
    expect(page.get_by_text("Split automations")).to_be_visible()  # a feature at stake
    expect(page.locator(".credit-row")).to_contain_text("$15.00")
    shot(page, "console-request-en")

    page.get_by_role("button", name="Apply now with credit").click()
    expect(page.get_by_role("status")).to_have_text(
        "Applied now. The plan has changed. $15.00 was credited to the account balance.")
    expect(page.get_by_role("heading", level=1).locator("..")).to_contain_text("Completed")
    expect(page.get_by_role("button", name="Apply now with credit")).to_have_count(0)
    shot(page, "console-request-applied-en")

    page.get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("region", name="Audit trail")).to_contain_text(
        "subscription.request_applied")
    expect(page.get_by_role("region", name="Credit ledger")).to_contain_text("$15.00")
    shot(page, "console-account-en")

    page.get_by_role("link", name="Accounts", exact=True).click()
    page.get_by_label("Search by account name, account id or a user's email").fill(name)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=name)).to_be_visible()
    shot(page, "console-accounts-en")

    # The customer sees the new plan, the credit and the completed request.
    sign_in(customer_page, account.email)
    expect(customer_page.get_by_test_id("plan-name")).to_have_text("Marketing Plus")
    expect(customer_page.get_by_test_id("balance")).to_have_text("$15.00")
    expect(customer_page.get_by_test_id("requests").get_by_test_id("request-status")
           ).to_have_text("Completed")
    shot(customer_page, "console-customer-billing-en")


def test_in_italian_an_agent_schedules_one_request_and_declines_another(
        page: Page, customer_page: Page, server: Server) -> None:
    name = f"Studio Alpina {secrets.token_hex(3)}"
    account = seed(server, tier="pro", currency="EUR", locale="it", name=name,
                   admin_name="Giulia Rossi")
    later = ask(server, account, pro("EUR").with_(tier="plus"),
                "Dal prossimo mese ci basta il piano Plus.")
    refused = ask(server, account, pro("EUR").with_(tier="starter", seats=1),
                  "E se passassimo a Starter?")
    agent = add_staff(server)

    sign_in(page, agent, lang="it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Richieste di modifica")
    page.get_by_role("link", name="Aperta", exact=True).click()
    expect(page.get_by_role("row").filter(has_text=name)).to_have_count(2)
    shot(page, "console-queue-it")

    page.goto(f"/console/requests/{later.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Richiesta di modifica da {name}")
    expect(page.locator(".credit-row")).to_contain_text(f"15,00{EUR}")
    shot(page, "console-request-it")
    page.get_by_label("Nota per il cliente (facoltativa)").fill("Fatto, dal 1° maggio.")
    page.get_by_role("button", name="Applica a fine periodo").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Applicata a fine periodo: il nuovo piano parte il 1 maggio 2026.")
    shot(page, "console-request-scheduled-it")

    page.goto(f"/console/requests/{refused.id}")
    page.get_by_role("button", name="Rifiuta").click()  # no message: the browser asks one
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Richiesta di modifica da {name}")
    page.get_by_label("Messaggio per il cliente").fill(
        "Starter non include le automazioni che usate: vi proponiamo Plus.")
    page.get_by_role("button", name="Rifiuta").click()
    expect(page.get_by_role("status")).to_have_text(
        "Rifiutata. Il cliente ha ricevuto il tuo messaggio via email.")
    expect(page.get_by_role("region", name="Cronologia")).to_contain_text(
        "vi proponiamo Plus")
    shot(page, "console-request-declined-it")

    page.goto(f"/console/accounts/{account.account_id}")
    expect(page.get_by_role("region", name="Abbonamento")).to_contain_text(
        "Programmato per il 1 mag 2026")
    shot(page, "console-account-it")
    page.goto("/console/accounts?q=Alpina")
    shot(page, "console-accounts-it")

    # The customer's page shows the change scheduled for May, and both answers.
    sign_in(customer_page, account.email)
    expect(customer_page.get_by_test_id("pending")).to_contain_text("Marketing Plus")
    expect(customer_page.get_by_test_id("plan-name")).to_have_text("Marketing Pro")
    statuses = customer_page.get_by_test_id("requests").get_by_test_id("request-status")
    expect(statuses).to_have_count(2)
    shot(customer_page, "console-customer-billing-it")


def test_a_customer_who_opens_the_console_gets_the_403_page(page: Page,
                                                            server: Server) -> None:
    signed_in(page, seed(server, currency="EUR", locale="it", name="Rossi S.r.l."))
    response = page.goto("/console")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "La console di assistenza è riservata al personale di assistenza")
    shot(page, "console-403-it")
    page.goto("/console?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "The support console is for support staff")
    page.get_by_role("link", name="Go to Billing & Upgrade").click()
    expect(page).to_have_url(f"{server.url}/billing")
    page.goto("/console?lang=en")
    shot(page, "console-403-en")


def test_the_request_page_at_phone_width(phone: Page, server: Server) -> None:
    name = f"Bottega {secrets.token_hex(3)}"
    account = seed(server, tier="pro", currency="EUR", locale="it", name=name)
    request = ask(server, account, pro("EUR").with_(tier="plus"), "Meno funzioni, meno costi.")
    sign_in(phone, add_staff(server), lang="it")
    phone.goto(f"/console/requests/{request.id}")
    expect(phone.get_by_role("button", name="Applica subito con accredito")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    shot(phone, "console-request-phone-it")
    phone.goto("/console")
    shot(phone, "console-queue-phone-it")
