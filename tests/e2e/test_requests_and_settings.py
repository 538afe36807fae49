""""Request account change", auto-upgrade, and cancellation at period end with its undo."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from canone.services import requests
from canone.services.access import STAFF, Actor
from canone.services.records import Usage

from .conftest import Server, open_dialog, seed, shot, sign_in, signed_in


def test_a_lower_tier_opens_the_request_form_prefilled(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    starter = page.get_by_test_id("tier-starter")
    dialog = open_dialog(starter.get_by_role("button", name="Contact us"))
    expect(dialog.get_by_role("heading", name="Request account change")).to_be_visible()
    expect(dialog.get_by_test_id("request-target")).to_have_text(
        "Marketing Starter · 1,000 contacts · 1 user seat · Monthly")
    expect(dialog.locator("select[name=tier]")).to_have_value("starter")
    expect(dialog.get_by_label("Reason")).to_have_value("tier_lower")
    dialog.get_by_label("Message").fill("We need fewer features from next month.")
    shot(page, "en-request-dialog", full_page=False)
    dialog.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Your request was sent.")
    table = page.get_by_test_id("requests")
    expect(table).to_contain_text("Marketing Starter · 1,000 contacts")
    expect(table.get_by_test_id("request-status")).to_have_text("Open")
    shot(page, "en-request-sent")
    # Support takes it; the page shows the new status.
    with server.services.database.transaction() as store:
        (sent,) = store.requests.of_account(account.account_id)
    assert sent.desired is not None and sent.desired.tier == "starter"
    assert sent.reason == "tier_lower"
    requests.transition(server.services, Actor(STAFF, "staff:sam@canone.test"), sent.id,
                        requests.IN_PROGRESS)
    page.reload()
    expect(table.get_by_test_id("request-status")).to_have_text("In progress")


def test_a_refused_change_leads_to_the_request_form(page: Page, server: Server) -> None:
    signed_in(page, seed(server, contacts=50000))
    page.get_by_role("button", name="Edit contact limit").click()
    page.locator("#contacts-slider").press("End")  # 100,000 contacts: a custom price
    summary = page.locator("#dlg-contacts [data-quote-part=summary]")
    expect(summary).to_contain_text("A plan with a custom price")
    dialog = open_dialog(summary.get_by_role("button", name="Request account change"))
    expect(dialog).to_be_visible()
    expect(page.locator("#dlg-contacts")).to_be_hidden()
    expect(dialog.get_by_test_id("request-target")).to_have_text(
        "Marketing Plus · 100,000 contacts · 1 user seat · Monthly")
    expect(dialog.get_by_test_id("request-price")).to_have_text("Custom price")
    expect(dialog.get_by_label("Reason")).to_have_value("custom_price")
    assert dialog.locator("input[name=contacts]").input_value() == "100000"
    expect(dialog.locator("select[name=product]")).to_be_focused()  # the first field it can edit
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Edit contact limit")).to_be_focused()
    page.get_by_role("button", name="Edit contact limit").click()
    page.locator("#contacts-slider").press("End")
    summary.get_by_role("button", name="Request account change").click()
    dialog.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("requests").get_by_test_id("request-status")).to_have_text(
        "Open")


def test_contact_us_sends_a_free_text_request(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    dialog = open_dialog(page.get_by_role("button", name="Contact us").first)
    dialog.get_by_label("Reason").select_option("addon_removed")
    dialog.get_by_label("Message").fill("Please remove SMS at the end of the month.")
    dialog.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("requests")).to_contain_text("Please remove SMS")
    page.get_by_test_id("requests").get_by_role("button", name="Withdraw").click()
    expect(page.get_by_test_id("notice")).to_have_text("Your request was withdrawn.")
    expect(page.get_by_test_id("request-status")).to_have_text("Withdrawn")


def test_auto_upgrade_and_cancellation_at_period_end(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    expect(page.get_by_test_id("auto-upgrade")).to_have_text("Off")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("auto-upgrade")).to_have_text("On")
    dialog = open_dialog(page.get_by_role("button", name="Cancel account"))
    expect(dialog).to_contain_text("Your account stays active until May 1, 2026")
    dialog.get_by_label("Why are you leaving? (optional)").fill("Moving to another tool")
    shot(page, "en-cancel-dialog", full_page=False)
    dialog.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_test_id("notice")).to_have_text(
        "Your account will be cancelled at the end of the current period.")
    expect(page.locator("main")).to_contain_text("Your account will be cancelled on May 1, 2026.")
    page.get_by_role("button", name="Undo cancellation").click()
    expect(page.get_by_test_id("notice")).to_have_text(
        "The cancellation was undone. Your subscription continues.")
    with server.services.database.transaction() as store:
        sub = store.subscriptions.of_account(account.account_id)
    assert sub is not None and not sub.cancel_at_period_end


def test_only_the_primary_admin_sees_cancel_and_auto_upgrade(page: Page,
                                                             server: Server) -> None:
    account = seed(server, seats=3)
    with server.services.database.transaction() as store:
        bob = store.people.user_by_email(account.admin_email)
        assert bob is not None
        store.people.save_user(bob.but(billing=True))
    sign_in(page, account.admin_email)
    expect(page.get_by_role("heading", name="Billing & Upgrade")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel account")).to_have_count(0)
    expect(page.get_by_test_id("auto-upgrade")).to_have_count(0)


def test_usage_banners_at_75_90_and_100_percent(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server, contacts=1000))
    for used, text in [(750, "You have used 75% of your contact limit: 750 of 1,000 contacts."),
                       (900, "You have used 90% of your contact limit: 900 of 1,000 contacts."),
                       (1000, "You have reached your contact limit: 1,000 of 1,000 contacts "
                              "(100%).")]:
        with server.services.database.transaction() as store:
            store.usage.save(Usage(account.account_id, used, 1, server.clock.now()))
        page.reload()
        expect(page.get_by_test_id("usage-banner")).to_contain_text(text)
    shot(page, "en-usage-banner", full_page=False)


def test_a_past_due_account_is_asked_to_update_its_card(page: Page, server: Server) -> None:
    account = seed(server, locale="it", currency="EUR")
    with server.services.database.transaction() as store:
        found = store.accounts.get(account.account_id)
        assert found is not None
        store.accounts.save(found.but(status="past_due"))
    sign_in(page, account.email)
    alert = page.get_by_test_id("unpaid")
    expect(alert).to_contain_text("L'ultimo pagamento non è andato a buon fine")
    alert.get_by_role("button", name="Aggiorna la carta e paga").click()
    expect(page.locator("#dlg-card").get_by_label("Numero della carta")).to_be_focused()
    shot(page, "it-past-due-card-dialog", full_page=False)
