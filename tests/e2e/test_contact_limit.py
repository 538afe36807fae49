"""'Edit' contact limit: the slider, the live price, the review and the purchase (SPEC §7).

Every account starts on Marketing Plus, 1,000 contacts, 1 seat, $49.00 a month, on day 16
of a 30-day period: an upgrade charges the new price for 15 days less the old one's.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, seed, shot, signed_in

SUMMARY = "#dlg-contacts [data-quote-part=summary]"
REVIEW = "#dlg-contacts [data-quote-part=review]"


def open_contacts(page: Page) -> None:
    page.get_by_role("button", name="Edit contact limit").click()
    expect(page.locator("#dlg-contacts")).to_be_visible()


def test_the_price_updates_live_as_the_slider_moves(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    open_contacts(page)
    slider = page.locator("#contacts-slider")
    expect(slider).to_be_focused()
    expect(page.locator(f"{SUMMARY}")).to_contain_text("This is your current plan.")
    # (limit, new monthly price, due today = 15/30 of the new price − 15/30 of $49.00)
    for limit, monthly, due in [("2,500", "$69.00", "$10.00"), ("5,000", "$119.00", "$35.00"),
                                ("10,000", "$189.00", "$70.00"),
                                ("25,000", "$369.00", "$160.00"),
                                ("50,000", "$489.00", "$220.00")]:
        slider.press("ArrowRight")
        expect(page.get_by_test_id("slider-value")).to_have_text(limit)
        expect(page.locator(f"{SUMMARY} [data-testid=future-price]")).to_have_text(monthly)
        expect(page.locator(f"{SUMMARY} [data-testid=due-today]")).to_have_text(due)
    shot(page, "en-contacts-slider-50000", full_page=False)
    slider.press("ArrowRight")  # 100,000 contacts has a custom price: sales must quote it
    expect(page.get_by_test_id("slider-value")).to_have_text("100,000")
    expect(page.locator(SUMMARY)).to_contain_text("This change needs a request to our team")
    expect(page.locator("#dlg-contacts button[data-step=review]")).to_be_disabled()
    page.keyboard.press("Escape")
    expect(page.locator("#dlg-contacts")).to_be_hidden()
    expect(page.get_by_role("button", name="Edit contact limit")).to_be_focused()


def test_contact_limit_upgrade_ends_with_the_invoice(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    shot(page, "en-billing-page")
    open_contacts(page)
    page.locator("#contacts-slider").press("ArrowRight")
    expect(page.locator(f"{SUMMARY} [data-testid=due-today]")).to_have_text("$10.00")
    page.get_by_role("button", name="Update contact limit").click()
    expect(page.locator(f"{REVIEW} [data-testid=review-due-today]")).to_have_text("$10.00")
    expect(page.locator(f"{REVIEW} [data-testid=review-future-price]")).to_have_text("$69.00")
    expect(page.locator(REVIEW)).to_contain_text("Then per month, from May 1, 2026")
    expect(page.locator(REVIEW)).to_contain_text("No feature is lost or gained.")
    shot(page, "en-contacts-review", full_page=False)
    page.get_by_role("button", name="Confirm purchase").click()
    confirmation = page.get_by_test_id("confirmation")
    expect(confirmation).to_contain_text("Invoice 2026-")
    expect(confirmation).to_contain_text("total $10.00")
    expect(page.get_by_test_id("contact-limit")).to_have_text("2,500")
    expect(page.get_by_test_id("plan-price")).to_have_text("$69.00")
    shot(page, "en-contacts-confirmed")
    charges = server.gateway.charges_for(account.card_token)
    assert [c.amount_minor for c in charges] == [4900, 1000]
    pdf = page.request.get(confirmation.get_by_role("link").get_attribute("href") or "")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")


def test_a_lower_limit_is_scheduled_and_can_be_cancelled(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server, contacts=2500))
    open_contacts(page)
    page.locator("#contacts-slider").press("ArrowLeft")
    expect(page.get_by_test_id("slider-value")).to_have_text("1,000")
    expect(page.locator(SUMMARY)).to_contain_text(
        "This reduction is scheduled for the next period, starting May 1, 2026.")
    expect(page.locator(f"{SUMMARY} [data-testid=due-today]")).to_have_text("$0.00")
    expect(page.locator(f"{SUMMARY} [data-testid=future-price]")).to_have_text("$49.00")
    shot(page, "en-contacts-reduction", full_page=False)
    page.get_by_role("button", name="Update contact limit").click()
    page.get_by_role("button", name="Schedule the change").click()
    expect(page.get_by_test_id("notice")).to_have_text(
        "Your change is scheduled for the next period. Nothing was charged today.")
    expect(page.get_by_test_id("pending")).to_contain_text("1,000 contacts")
    expect(page.get_by_test_id("contact-limit")).to_have_text("2,500")
    shot(page, "en-reduction-scheduled")
    page.get_by_role("button", name="Cancel scheduled change").click()
    expect(page.get_by_test_id("notice")).to_contain_text("The scheduled change was cancelled")
    expect(page.get_by_test_id("pending")).to_have_count(0)
    assert len(server.gateway.charges_for(account.card_token)) == 1  # the sign-up only
