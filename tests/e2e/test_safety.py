"""What must never go wrong: a double click charges once, a declined card or a stale
quote changes nothing, people without billing access get a clear 403, forms need their
CSRF token."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from canone.services import accounts
from canone.services.access import Actor
from canone.services.records import WebSession

from .conftest import (
    DECLINED_CARD,
    PASSWORD,
    Server,
    add_staff,
    open_dialog,
    review_form,
    seed,
    shot,
    sign_in,
    signed_in,
)


def invoice_count(server: Server, account_id: str) -> int:
    with server.services.database.transaction() as store:
        return len(store.invoices.of_account(account_id, 50, None))


def test_a_double_click_on_confirm_charges_once(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    dialog = open_dialog(page.get_by_role("button", name="Upgrade to Enterprise"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$48.00")
    form = review_form(dialog)
    dialog.get_by_role("button", name="Upgrade", exact=True).dblclick()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $48.00")
    # A second submission of the same quote (another tab, a replayed request) is the same
    # purchase: it shows the same invoice and takes no more money.
    again = page.request.post("/billing/confirm", form={**form, "reviewed": "1"},
                              max_redirects=0)
    assert again.status == 303 and again.headers["location"] == page.url.removeprefix(
        server.url)
    charges = server.gateway.charges_for(account.card_token)
    assert [c.amount_minor for c in charges] == [4900, 4800]
    assert invoice_count(server, account.account_id) == 2


def test_a_declined_card_changes_nothing(page: Page, server: Server) -> None:
    account = seed(server)
    with server.services.database.transaction() as store:
        admin = store.people.user_by_email(account.email)
    assert admin is not None
    accounts.update_card(server.services, Actor.of_user(admin), account.account_id,
                         DECLINED_CARD)
    sign_in(page, account.email)
    dialog = open_dialog(page.get_by_test_id("addon-sms").get_by_role("button", name="Add to plan"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$7.50")
    dialog.get_by_role("button", name="Confirm purchase").click()
    expect(page.get_by_test_id("error")).to_contain_text(
        "Your card was declined. Nothing was charged and your plan did not change.")
    expect(page.get_by_test_id("addon-sms")).to_contain_text("Add to plan")
    expect(page.get_by_test_id("plan-price")).to_have_text("$49.00")
    assert invoice_count(server, account.account_id) == 1
    shot(page, "en-card-declined", full_page=False)
    # Put a working card on file from the page, then the purchase goes through.
    page.get_by_test_id("error").get_by_role("button", name="Update card").click()
    card = page.locator("#dlg-card")
    card.get_by_label("Card number").fill("4242 4242 4242 4242")
    card.get_by_label("Expiry month").fill("12")
    card.get_by_label("Expiry year").fill("2031")
    card.get_by_label("Security code").fill("123")
    card.get_by_role("button", name="Save card").click()
    expect(page.get_by_test_id("notice")).to_have_text("Your card was updated.")
    page.get_by_test_id("addon-sms").get_by_role("button", name="Add to plan").click()
    dialog.get_by_role("button", name="Confirm purchase").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $7.50")


def test_a_quote_from_yesterday_is_stale(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    dialog = open_dialog(page.get_by_role("button", name="Upgrade to Pro"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$15.00")
    server.clock.advance(days=1)  # the account's local date rolls over under the quote
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    expect(page.get_by_test_id("error")).to_have_text(
        "The price changed, please review again. Nothing was charged.")
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Plus")
    assert len(server.gateway.charges_for(account.card_token)) == 1
    shot(page, "en-stale-quote", full_page=False)
    # Reviewing again prices the change for the new day: 14 of 30 days remain.
    page.get_by_role("button", name="Upgrade to Pro").click()
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$14.00")


def test_an_admin_without_billing_permission_gets_a_clear_403(page: Page,
                                                             server: Server) -> None:
    account = seed(server, seats=3)
    for email in (account.admin_email, account.user_email):
        sign_in(page, email)
        response = page.goto("/billing")
        assert response is not None and response.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "You don't have access to this page")
        expect(page.locator("main")).to_contain_text(
            f"Ask the account's primary admin, Ada Lovelace ({account.email})")
        expect(page.locator("main")).not_to_contain_text("Traceback")
        # Nor can they price or buy through the quote endpoint.
        csrf = page.locator("input[name=csrf]").first.input_value()
        quote = page.request.post("/billing/quote", headers={"X-CSRF-Token": csrf}, data={
            "product": "marketing", "tier": "pro", "interval": "month", "currency": "USD",
            "contacts": "1000", "seats": "1", "addons": ""})
        assert quote.status == 403 and quote.json()["token"] is None
        page.get_by_test_id("user-menu").locator("summary").click()  # the name's menu
        page.get_by_role("button", name="Sign out").click()
    shot(page, "en-signed-out", full_page=False)
    sign_in(page, account.admin_email)
    page.goto("/billing")
    shot(page, "en-403")


def test_sign_in_wrong_password_then_right_and_back(page: Page, server: Server) -> None:
    account = seed(server)
    page.goto("/billing/bundle")
    expect(page).to_have_url(re.compile(r"/login\?next=/billing/bundle$"))
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", "not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The email or the password is not right.")
    shot(page, "en-login-error", full_page=False)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/billing/bundle")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["canone_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"


def test_a_post_without_the_csrf_token_is_refused(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    response = page.request.post("/billing/cancel", form={"reason": "forged"})
    assert response.status == 403
    page.goto("/billing")
    expect(page.get_by_role("button", name="Cancel account")).to_be_visible()


def test_sessions_end_on_sign_out_and_expire(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    old = {c["name"]: c["value"] for c in page.context.cookies()}["canone_session"]
    page.get_by_test_id("user-menu").locator("summary").click()  # the name's menu
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.context.add_cookies([{"name": "canone_session", "value": old, "url": server.url}])
    page.goto("/billing")
    expect(page).to_have_url(re.compile(r"/login\?next=/billing$"))
    # A session past its expiry is no session.
    token = "expired-" + account.account_id
    with server.services.database.transaction() as store:
        user = store.people.user_by_email(account.email)
        assert user is not None
        store.access.add_session(WebSession(hashlib.sha256(token.encode()).hexdigest(),
                                            f"user:{user.id}", "csrf",
                                            datetime.now(UTC) - timedelta(minutes=1)))
    page.context.add_cookies([{"name": "canone_session", "value": token, "url": server.url}])
    page.goto("/billing")
    expect(page).to_have_url(re.compile(r"/login\?next=/billing$"))


def test_a_support_agent_signs_in_to_the_console_not_billing(page: Page,
                                                             server: Server) -> None:
    sign_in(page, add_staff(server))
    expect(page).to_have_url(re.compile(r"/console"))
    response = page.goto("/billing")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This page is for customers")
    expect(page.get_by_role("link", name="Support console")).to_be_visible()


def test_a_quote_request_nested_too_deep_is_refused_with_400_in_each_language(
        page: Page, server: Server) -> None:
    too_deep = "[" * 100_000 + "]" * 100_000
    nested_field = '{"product": ' + "[" * 500 + "]" * 500 + "}"
    for locale, unreadable, unavailable in (
            ("en", "The page sent a request that could not be read. Reload the page and try "
                   "again.", "This choice is not available."),
            ("it", "La pagina ha inviato una richiesta che non si può leggere. Ricarica la "
                   "pagina e riprova.", "Questa scelta non è disponibile.")):
        account = seed(server, locale=locale)
        sign_in(page, account.email, lang=locale)
        page.goto("/billing")
        csrf = page.locator("input[name=csrf]").first.input_value()
        headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}

        refused = page.request.post("/billing/quote", headers=headers, data=too_deep.encode())
        assert refused.status == 400
        assert refused.json()["token"] is None
        assert unreadable in refused.json()["parts"]["summary"]
        odd = page.request.post("/billing/quote", headers=headers, data=nested_field.encode())
        assert odd.status == 200 and odd.json()["token"] is None
        assert unavailable in odd.json()["parts"]["summary"]
        page.get_by_test_id("user-menu").locator("summary").click()  # the name's menu
        page.get_by_role("button", name="Sign out" if locale == "en" else "Esci").click()
