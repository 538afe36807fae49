"""By keyboard: Enter never buys without the review, a dialog closed with Cancel or Escape
forgets what was chosen in it, and focus goes where the person reads next.

Every account starts on Marketing Plus, 1,000 contacts, 1 seat, $49.00 a month, on day 16
of a 30-day period (15 days remain); its sign-up is the one charge on its card.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import Seeded, Server, open_dialog, review_form, seed, shot, sign_in, signed_in

CONTACTS = "#dlg-contacts"
SEATS = "#dlg-seats"


def charges(server: Server, account: Seeded) -> list[int]:
    return [c.amount_minor for c in server.gateway.charges_for(account.card_token)]


def invoice_count(server: Server, account: Seeded) -> int:
    with server.services.database.transaction() as store:
        return len(store.invoices.of_account(account.account_id, 50, None))


def assert_nothing_charged(server: Server, account: Seeded) -> None:
    """Only the sign-up was charged and invoiced."""
    assert len(charges(server, account)) == 1
    assert invoice_count(server, account) == 1


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


# -- 23: Enter goes to the review, the visible confirm button buys ------------------------


@pytest.mark.parametrize("lang", ["en", "it"])
def test_enter_in_the_contact_slider_shows_the_review_and_charges_nothing(
        page: Page, server: Server, lang: str) -> None:
    account = seed(server, locale=lang, currency="USD" if lang == "en" else "EUR")
    sign_in(page, account.email, lang=lang)
    page.locator("[data-open=dlg-contacts]").first.click()
    slider = page.locator("#contacts-slider")
    expect(slider).to_be_focused()
    # Enter at once, before the price of 2,500 contacts is back: the review waits for it.
    slider.press("ArrowRight")
    slider.press("Enter")
    review = page.locator(f"{CONTACTS} [data-quote-part=review]")
    expect(review).to_be_visible()
    due = "$10.00" if lang == "en" else "10,00\u00a0€"
    expect(review.get_by_test_id("review-due-today")).to_have_text(due)
    expect(page.locator(f"{CONTACTS} [data-quote-part=summary]").get_by_test_id("due-today")
           ).to_have_text(due)
    expect(slider).to_have_attribute("aria-valuetext",
                                     "2,500 contacts" if lang == "en" else "2.500 contatti")
    expect(page.locator(f"{CONTACTS} [data-step-name=edit]")).to_be_hidden()
    assert_nothing_charged(server, account)
    shot(page, f"{lang}-contacts-enter-review", full_page=False)
    # Enter again, now on the review's heading: still nothing is bought.
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert_nothing_charged(server, account)
    # The visible confirm button buys what the review shows.
    page.locator(f"{CONTACTS} button[type=submit]").click()
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    assert charges(server, account)[1:] == [1000]


def test_enter_in_the_seats_field_shows_the_review_and_charges_nothing(
        page: Page, server: Server) -> None:
    account = seed(server, locale="it", currency="EUR")
    sign_in(page, account.email, lang="it")
    page.locator("[data-open=dlg-seats]").click()
    seats = page.locator("#seats-input")
    seats.press("ArrowUp")
    expect(seats).to_have_value("2")
    expect(page.locator(f"{SEATS} [data-quote-part=summary]").get_by_test_id("due-today")
           ).to_have_text("9,50\u00a0€")
    seats.press("Enter")
    review = page.locator(f"{SEATS} [data-quote-part=review]")
    expect(review.get_by_test_id("review-due-today")).to_have_text("9,50\u00a0€")
    expect(page.get_by_role("button", name="Conferma acquisto")).to_be_enabled()
    assert_nothing_charged(server, account)


def test_the_hidden_confirm_button_of_a_dialog_is_disabled(page: Page, server: Server) -> None:
    """Enter's implicit submission clicks a form's first submit button: while the review
    is not on screen, that button is disabled, so the form cannot be submitted."""
    signed_in(page, seed(server))
    page.get_by_role("button", name="Edit user seats").click()
    page.get_by_role("button", name="Add a seat").click()
    expect(page.get_by_role("button", name="Continue")).to_be_enabled()
    expect(page.locator(f"{SEATS} button[type=submit]")).to_be_disabled()
    expect(page.locator(f"{SEATS} input[name=reviewed]")).to_be_disabled()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(f"{SEATS} button[type=submit]")).to_be_enabled()
    expect(page.locator(f"{SEATS} input[name=reviewed]")).to_be_enabled()
    # The bundle page's "Upgrade" lives in its closed dialog: disabled until it opens.
    page.goto("/billing/bundle")
    expect(page.get_by_role("button", name="Update my plan")).to_be_enabled()
    expect(page.locator("#dlg-bundle button[type=submit]")).to_be_disabled()


BUNDLE_CONTROLS = {
    "tier radio": lambda page: page.get_by_role("radio", name="Pro"),
    "add-on checkbox": lambda page: page.get_by_role("checkbox", name="Transactional Email"),
    "seats field": lambda page: page.locator("#bundle-seats"),
    "contact slider": lambda page: page.locator("#bundle-contacts"),
}


@pytest.mark.parametrize("control", list(BUNDLE_CONTROLS))
def test_enter_on_the_bundle_page_opens_the_review_and_charges_nothing(
        page: Page, server: Server, control: str) -> None:
    account = signed_in(page, seed(server))
    page.goto("/billing/bundle")
    summary = page.locator("[data-quote-part=summary]").first
    expect(summary.get_by_test_id("due-today")).to_have_text("$22.00")
    field = BUNDLE_CONTROLS[control](page)
    field.focus()
    if control in ("tier radio", "add-on checkbox"):
        page.keyboard.press("Space")  # choose it, as a keyboard user does
    page.keyboard.press("Enter")
    dialog = page.locator("#dlg-bundle")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("review-due-today")).to_be_visible()
    expect(page.locator("#dlg-bundle-title")).to_be_focused()
    assert page.url == f"{server.url}/billing/bundle"
    assert_nothing_charged(server, account)


def test_a_confirmation_that_was_not_reviewed_is_refused(page: Page, server: Server) -> None:
    """The server's own check: a confirmation without the review's mark charges nothing."""
    account = signed_in(page, seed(server))
    dialog = open_dialog(page.get_by_role("button", name="Upgrade to Enterprise"))
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$48.00")
    form = review_form(dialog)
    for lang, text in [("en", "This price was not reviewed, so nothing was charged."),
                       ("it", "Il prezzo non è stato controllato, quindi non è stato "
                              "addebitato nulla.")]:
        answer = page.request.post(f"/billing/confirm?lang={lang}",
                                   form=form, max_redirects=0)
        assert answer.status == 303
        assert answer.headers["location"] == "/billing?error=not_reviewed"
        page.goto(f"/billing?error=not_reviewed&lang={lang}")
        expect(page.get_by_test_id("error")).to_contain_text(text)
    assert_nothing_charged(server, account)


# -- 24: Cancel and Escape reset the dialog ------------------------------------------------


def test_escape_resets_the_contact_dialog(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    page.get_by_role("button", name="Edit contact limit").click()
    slider = page.locator("#contacts-slider")
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    summary = page.locator(f"{CONTACTS} [data-quote-part=summary]")
    expect(summary.get_by_test_id("due-today")).to_have_text("$35.00")
    page.get_by_role("button", name="Update contact limit").click()
    expect(page.locator(f"{CONTACTS} [data-testid=review-due-today]")).to_have_text("$35.00")
    page.keyboard.press("Escape")
    expect(page.locator(CONTACTS)).to_be_hidden()
    page.get_by_role("button", name="Edit contact limit").click()
    expect(slider).to_have_value("0")
    expect(slider).to_have_attribute("aria-valuetext", "1,000 contacts")
    expect(page.get_by_test_id("slider-value")).to_have_text("1,000")
    expect(page.locator(f"{CONTACTS} input[name=contacts]")).to_have_value("1000")
    expect(page.locator(f"{CONTACTS} [data-step-name=edit]")).to_be_visible()
    expect(summary).to_contain_text("This is your current plan.")
    expect(page.get_by_role("button", name="Update contact limit")).to_be_disabled()
    # Enter now buys nothing either: the current plan has nothing to review.
    slider.press("Enter")
    page.wait_for_timeout(300)
    assert_nothing_charged(server, account)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_cancel_resets_the_seats_dialog(page: Page, server: Server, lang: str) -> None:
    account = seed(server, locale=lang)
    sign_in(page, account.email, lang=lang)
    edit = page.locator("[data-open=dlg-seats]")
    edit.click()
    page.locator(f"{SEATS} [data-delta='1']").click()
    page.locator(f"{SEATS} [data-delta='1']").click()
    summary = page.locator(f"{SEATS} [data-quote-part=summary]")
    expect(page.locator("#seats-input")).to_have_value("3")
    expect(summary.get_by_test_id("future-price")).to_be_visible()
    page.locator(f"{SEATS} .dialog-foot [data-close]").click()
    expect(page.locator(SEATS)).to_be_hidden()
    expect(edit).to_be_focused()
    edit.click()
    expect(page.locator("#seats-input")).to_have_value("1")
    expect(summary).to_contain_text(
        "This is your current plan." if lang == "en" else "Questo è il tuo piano attuale.")
    expect(summary.get_by_test_id("future-price")).to_have_count(0)


# -- 25: focus goes to the dialog's heading ------------------------------------------------


def test_update_my_plan_focuses_the_dialog_heading(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    page.goto("/billing/bundle")
    opener = page.get_by_role("button", name="Update my plan")
    expect(opener).to_be_enabled()
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#dlg-bundle")
    expect(dialog.get_by_test_id("review-due-today")).to_have_text("$22.00")
    assert focused_id(page) == "dlg-bundle-title"
    assert page.evaluate("() => document.activeElement.textContent") == "Update my plan"
    shot(page, "en-bundle-dialog-focus", full_page=False)
    # Escape returns focus to the opener; the page's choices stay as they were.
    page.keyboard.press("Escape")
    expect(opener).to_be_focused()
    expect(page.get_by_role("radio", name="Plus")).to_be_checked()


def test_review_dialogs_without_fields_focus_their_heading(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    page.get_by_role("button", name="Upgrade to Enterprise").click()
    expect(page.locator("#dlg-tier-title")).to_be_focused()
    page.keyboard.press("Escape")
    page.get_by_test_id("addon-sms").get_by_role("button", name="Add to plan").click()
    expect(page.locator("#dlg-addon-title")).to_be_focused()
