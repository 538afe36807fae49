"""Seats, tiers, add-ons, the bundle and annual billing, from the page to the invoice.

Every account starts on Marketing Plus, 1,000 contacts, 1 seat, $49.00 a month, on day 16
of a 30-day period (15 days remain).
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, open_dialog, seed, shot, sign_in, signed_in


def invoice_totals(server: Server, account_id: str) -> list[int]:
    with server.services.database.transaction() as store:
        return sorted(inv.total for inv in store.invoices.of_account(account_id, 50, None))


def test_seats_plus_and_minus_then_confirm(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    page.get_by_role("button", name="Edit user seats").click()
    summary = page.locator("#dlg-seats [data-quote-part=summary]")
    plus = page.get_by_role("button", name="Add a seat")
    minus = page.get_by_role("button", name="Remove a seat")
    plus.click()
    expect(summary.get_by_test_id("future-price")).to_have_text("$68.00")
    expect(summary.get_by_test_id("due-today")).to_have_text("$9.50")
    plus.click()
    expect(page.locator("#seats-input")).to_have_value("3")
    expect(summary.get_by_test_id("future-price")).to_have_text("$87.00")
    expect(summary.get_by_test_id("due-today")).to_have_text("$19.00")
    minus.click()
    expect(summary.get_by_test_id("due-today")).to_have_text("$9.50")
    shot(page, "en-seats-dialog", full_page=False)
    page.get_by_role("button", name="Continue").click()
    review = page.locator("#dlg-seats [data-quote-part=review]")
    expect(review.get_by_test_id("review-due-today")).to_have_text("$9.50")
    page.get_by_role("button", name="Confirm purchase").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $9.50")
    expect(page.get_by_test_id("seats")).to_have_text("2")
    assert invoice_totals(server, account.account_id) == [950, 4900]


def test_seats_below_active_users_are_refused_clearly(page: Page, server: Server) -> None:
    account = seed(server, seats=4)  # three people use the account
    sign_in(page, account.email)
    page.get_by_role("button", name="Edit user seats").click()
    page.get_by_role("button", name="Remove a seat").click()
    summary = page.locator("#dlg-seats [data-quote-part=summary]")
    expect(summary).to_contain_text("scheduled for the next period")
    page.get_by_role("button", name="Remove a seat").click()
    expect(summary).to_have_text(
        "Your account has 3 active users. Deactivate users first to go below 3 seats.")
    expect(page.get_by_role("button", name="Continue")).to_be_disabled()
    shot(page, "en-seats-below-active-users", full_page=False)


def test_tier_card_upgrade_shows_features_gained(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    dialog = open_dialog(page.get_by_role("button", name="Upgrade to Enterprise"))
    expect(dialog.get_by_role("heading", name="Upgrade to Enterprise")).to_be_visible()
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$48.00")
    expect(dialog.get_by_test_id("review-future-price")).to_have_text("$145.00")
    expect(dialog.get_by_test_id("features-gained")).to_contain_text("Single sign-on (SSO)")
    expect(dialog.get_by_test_id("features-gained")).to_contain_text("Custom Reporting")
    shot(page, "en-tier-dialog", full_page=False)
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $48.00")
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing Enterprise")
    expect(page.get_by_test_id("addon-custom_reporting")).to_contain_text("Included")
    expect(page.get_by_test_id("tier-plus")).to_contain_text("Contact us")


def test_add_on_review_purchase_and_confirm(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    dialog = open_dialog(page.get_by_test_id("addon-sms").get_by_role("button", name="Add to plan"))
    expect(dialog.get_by_role("heading", name="Review purchase")).to_be_visible()
    expect(dialog).to_contain_text("SMS")
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$7.50")
    expect(dialog.get_by_test_id("review-future-price")).to_have_text("$64.00")
    expect(dialog.get_by_test_id("features-gained")).to_have_text("SMS")
    shot(page, "en-addon-review", full_page=False)
    dialog.get_by_role("button", name="Confirm purchase").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $7.50")
    expect(page.get_by_test_id("addon-sms")).to_contain_text("In your plan")


def test_bundle_configuration_then_update_my_plan(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    page.get_by_test_id("bundle-offer").get_by_role("link").click()
    expect(page).to_have_url(f"{server.url}/billing/bundle")
    summary = page.locator("[data-quote-part=summary]").first
    # Bundle Plus at 1,000 contacts ($93.00, 3 seats included) for the 15 days left.
    expect(summary.get_by_test_id("future-price")).to_have_text("$93.00")
    expect(summary.get_by_test_id("due-today")).to_have_text("$22.00")
    page.get_by_role("radio", name="Pro").check()
    expect(summary.get_by_test_id("future-price")).to_have_text("$150.00")
    page.locator("#bundle-contacts").press("ArrowRight")
    expect(summary.get_by_test_id("future-price")).to_have_text("$283.00")
    page.get_by_role("checkbox", name="Transactional Email").check()
    expect(summary.get_by_test_id("future-price")).to_have_text("$298.00")
    expect(summary.get_by_test_id("due-today")).to_have_text("$124.50")
    shot(page, "en-bundle-configurator")
    dialog = open_dialog(page.get_by_role("button", name="Update my plan"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$124.50")
    expect(dialog.get_by_test_id("review-future-price")).to_have_text("$298.00")
    expect(dialog.get_by_test_id("features-gained")).to_contain_text("Deals and pipelines")
    shot(page, "en-bundle-dialog", full_page=False)
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    expect(page).to_have_url(f"{server.url}/billing?invoice=" + page.url.split("=")[-1])
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $124.50")
    expect(page.get_by_test_id("plan-name")).to_have_text("Marketing + Sales Pro")
    expect(page.get_by_test_id("bundle-offer")).to_have_count(0)


def test_monthly_to_annual_shows_the_saving(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    offer = page.get_by_test_id("yearly-offer")
    expect(offer).to_contain_text("$470.40 per year instead of $588.00: you save $117.60.")
    dialog = open_dialog(offer.get_by_role("button", name="Switch to annual billing"))
    # $470.40 for the new year less 15/30 of $49.00 unused.
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$445.90")
    expect(dialog.get_by_test_id("review-future-price")).to_have_text("$470.40")
    expect(dialog).to_contain_text("Then per year, from Apr 16, 2027".replace("Apr", "April"))
    shot(page, "en-annual-dialog", full_page=False)
    dialog.get_by_role("button", name="Confirm purchase").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $445.90")
    expect(page.get_by_test_id("plan-price")).to_have_text("$470.40")
    expect(page.get_by_test_id("next-billing")).to_have_text("April 16, 2027")


def test_a_sales_account_completes_its_bundle(page: Page, server: Server) -> None:
    signed_in(page, seed(server, product="sales", tier="plus", contacts=None, seats=2))
    expect(page.get_by_test_id("plan-name")).to_have_text("Sales Plus")
    expect(page.get_by_role("button", name="Edit contact limit")).to_have_count(0)
    expect(page.get_by_test_id("plan-price")).to_have_text("$38.00")
    page.get_by_test_id("bundle-offer").get_by_role("link").click()
    summary = page.locator("[data-quote-part=summary]").first
    # Bundle Plus, 1,000 contacts, 3 seats included: $93.00; 15 days of it less 15 of $38.
    expect(summary.get_by_test_id("future-price")).to_have_text("$93.00")
    expect(summary.get_by_test_id("due-today")).to_have_text("$27.50")
    page.get_by_role("button", name="Update my plan").click()
    page.locator("#dlg-bundle").get_by_role("button", name="Upgrade", exact=True).click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $27.50")
    expect(page.get_by_test_id("contact-limit")).to_have_text("1,000")


def test_bundle_with_fewer_seats_schedules_the_seats(page: Page, server: Server) -> None:
    account = seed(server, seats=5)  # $49.00 + 4 extra seats × $19.00 = $125.00
    sign_in(page, account.email)
    page.goto("/billing/bundle")
    summary = page.locator("[data-quote-part=summary]").first
    expect(summary.get_by_test_id("future-price")).to_have_text("$131.00")
    page.get_by_role("button", name="Remove a seat").click()
    page.get_by_role("button", name="Remove a seat").click()
    expect(page.locator("#bundle-seats")).to_have_value("3")
    # Bundle Plus with 5 seats now (2 extra), 3 seats (all included) from May 1.
    expect(summary.get_by_test_id("future-price")).to_have_text("$93.00")
    expect(summary.get_by_test_id("due-today")).to_have_text("$3.00")
    dialog = open_dialog(page.get_by_role("button", name="Update my plan"))
    expect(dialog).to_contain_text("Fewer contacts or seats take effect on May 1, 2026")
    dialog.get_by_role("button", name="Upgrade", exact=True).click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("total $3.00")
    expect(page.get_by_test_id("seats")).to_have_text("5")
    expect(page.get_by_test_id("pending")).to_contain_text("3 user seats")
