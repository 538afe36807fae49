"""What the Billing & Upgrade page says in states a new user meets, in English and Italian:
the real share of the contact limit, a plan without contacts, a past-due account led to
its unpaid invoice, the features a requested plan loses before the request is sent, the
plan picked in the request form, the user menu, and seats beside active users."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from canone.services import accounts, renewal
from canone.services.access import Actor
from canone.services.ports import SUCCEEDED
from canone.services.records import Usage

from .conftest import (
    DECLINED_CARD,
    Seeded,
    Server,
    italian,
    open_dialog,
    seed,
    shot,
    sign_in,
    signed_in,
)


def report_contacts(server: Server, account: Seeded, contacts: int) -> None:
    with server.services.database.transaction() as store:
        store.usage.save(Usage(account.account_id, contacts, 1, server.clock.now()))


# -- 9: the usage banner --------------------------------------------------------------------


def test_the_banner_shows_the_real_share_and_numbers(page: Page, server: Server) -> None:
    account = seed(server, contacts=5000)
    report_contacts(server, account, 4600)
    sign_in(page, account.email)
    expect(page.get_by_test_id("usage-banner")).to_contain_text(
        "You have used 92% of your contact limit: 4,600 of 5,000 contacts.")
    report_contacts(server, account, 5625)
    page.reload()
    expect(page.get_by_test_id("usage-banner")).to_contain_text(
        "You are over your contact limit: 5,625 of 5,000 contacts (113%).")
    shot(page, "en-usage-over-limit", full_page=False)


def test_the_banner_in_italian(page: Page, server: Server) -> None:
    account = italian(server, contacts=5000)
    report_contacts(server, account, 4600)
    sign_in(page, account.email)
    expect(page.get_by_test_id("usage-banner")).to_contain_text(
        "Hai usato il 92% del tuo limite di contatti: 4.600 su 5.000 contatti.")
    shot(page, "it-usage-92", full_page=False)
    report_contacts(server, account, 5625)
    page.reload()
    expect(page.get_by_test_id("usage-banner")).to_contain_text(
        "Hai superato il limite di contatti: 5.625 su 5.000 contatti (113%).")


# -- 10: no auto-upgrade without a contact limit ---------------------------------------------


def test_a_sales_only_plan_offers_no_contact_auto_upgrade(page: Page, server: Server) -> None:
    for account, lang, setting in (
        (seed(server, product="sales", tier="pro", contacts=None), "en",
         "Auto-upgrade the contact limit"),
        (italian(server, product="sales", tier="pro", contacts=None), "it",
         "Upgrade automatico del limite di contatti"),
    ):
        sign_in(page, account.email, lang)
        expect(page.get_by_role("heading", level=2).first).to_be_visible()
        expect(page.locator("main")).not_to_contain_text(setting)
        expect(page.get_by_test_id("auto-upgrade")).to_have_count(0)
        shot(page, f"{lang}-sales-only-settings")


# -- 11: a past-due account -----------------------------------------------------------------


def fall_past_due(server: Server, account: Seeded) -> None:
    """The card starts declining; the May renewal and its retries on days 3, 5, 7 fail."""
    svc = server.services
    with svc.database.transaction() as store:
        owner = store.people.user_by_email(account.email)
    assert owner is not None
    accounts.update_card(svc, Actor.of_user(owner), account.account_id, DECLINED_CARD)
    for day in (1, 3, 5, 7):
        server.clock.instant = datetime(2026, 5, day, 9, 0, tzinfo=UTC)
        renewal.run(svc)
    server.clock.instant = datetime(2026, 5, 8, 9, 0, tzinfo=UTC)


def unpaid_banner(page: Page, server: Server, account: Seeded):  # type: ignore[no-untyped-def]
    """The account falls past due and its admin signs in: the unpaid invoice's banner."""
    fall_past_due(server, account)
    sign_in(page, account.email)
    return page.get_by_test_id("unpaid")


def bank_lifts_the_block(server: Server, account: Seeded) -> None:
    """The card on file stops declining (the customer's bank lifted its block)."""
    with server.services.database.transaction() as store:
        found = store.accounts.get(account.account_id)
    assert found is not None and found.card is not None
    with server.gateway._transaction() as db:
        db.execute("UPDATE cards SET behaviour = ? WHERE token = ?",
                   (SUCCEEDED, found.card.token))


def fill_card(page: Page, number: str) -> None:
    dialog = page.locator("#dlg-card")
    dialog.locator("input[name=number]").fill(number)
    dialog.locator("input[name=exp_month]").fill("12")
    dialog.locator("input[name=exp_year]").fill("2035")
    dialog.locator("input[name=cvc]").fill("123")


def test_a_past_due_account_leads_with_the_invoice_and_pays_it(page: Page,
                                                               server: Server) -> None:
    account = seed(server)
    unpaid = unpaid_banner(page, server, account)
    expect(unpaid.get_by_role("heading")).to_have_text(
        "Your account is restricted: an invoice is unpaid")
    expect(unpaid.get_by_test_id("unpaid-invoice")).to_contain_text(
        "Invoice 2026-")
    expect(unpaid.get_by_test_id("unpaid-invoice")).to_contain_text(
        "(Renewal, May 1, 2026 – Jun 1, 2026): $49.00 to pay.")
    expect(unpaid).to_contain_text("new purchases (upgrades, add-ons, seats, contacts) are "
                                   "blocked")
    # It comes first: before the plan, the tiers and the add-ons.
    first = page.locator("main h2").first
    expect(first).to_have_text("Your account is restricted: an invoice is unpaid")
    expect(page.get_by_role("button", name="Upgrade to Pro")).to_have_count(0)
    expect(page.get_by_test_id("tier-pro")).to_contain_text("Pay the open invoice first")
    expect(page.get_by_test_id("addon-sms")).to_contain_text("Pay the open invoice first")
    expect(page.get_by_role("button", name="Add to plan")).to_have_count(0)
    expect(page.get_by_test_id("bundle-offer")).to_have_count(0)
    settings = page.locator("section[aria-labelledby=settings-title]")
    expect(settings).to_contain_text("If you cancel, the account closes on June 1, 2026, the "
                                     "end of the current period. The unpaid invoice stays due.")
    expect(settings).not_to_contain_text("the period you paid for")
    shot(page, "en-past-due")
    # The card still declines: one more failed attempt, said plainly.
    unpaid.get_by_role("button", name="Pay $49.00 now").click()
    expect(page.get_by_test_id("error")).to_contain_text("Your card was declined.")
    # Another declining card is saved, and the page says the invoice is still unpaid.
    page.get_by_test_id("unpaid").get_by_role("button", name="Update card and pay").click()
    fill_card(page, "4000000000000002")
    page.locator("#dlg-card").get_by_role("button", name="Save card").click()
    expect(page.get_by_test_id("error")).to_contain_text(
        "Your card was saved, but the unpaid invoice could not be charged to it.")
    expect(page.get_by_test_id("unpaid")).to_be_visible()
    bank_lifts_the_block(server, account)
    page.get_by_test_id("unpaid").get_by_role("button", name="Pay $49.00 now").click()
    expect(page.get_by_test_id("notice")).to_have_text("Thank you, the invoice is paid.")
    expect(page.get_by_test_id("unpaid")).to_have_count(0)
    expect(page.get_by_role("button", name="Upgrade to Pro")).to_be_visible()
    shot(page, "en-past-due-paid")


def test_a_past_due_account_in_italian_updates_the_card_and_pays(page: Page,
                                                                 server: Server) -> None:
    unpaid = unpaid_banner(page, server, italian(server))
    expect(unpaid.get_by_role("heading")).to_have_text(
        "Il tuo account è limitato: una fattura non è pagata")
    expect(unpaid.get_by_test_id("unpaid-invoice")).to_contain_text("49,00\u00a0€ da pagare.")
    expect(unpaid.get_by_role("button", name="Paga ora 49,00\u00a0€")).to_be_visible()
    expect(page.get_by_test_id("tier-pro")).to_contain_text("Paga prima la fattura aperta")
    expect(page.locator("section[aria-labelledby=settings-title]")).to_contain_text(
        "La fattura non pagata resta dovuta.")
    shot(page, "it-past-due")
    dialog = open_dialog(unpaid.get_by_role("button", name="Aggiorna la carta e paga"))
    expect(dialog.get_by_test_id("card-pays")).to_have_text(
        "Salvando la carta, la fattura non pagata viene saldata subito.")
    fill_card(page, "4242424242424242")
    shot(page, "it-past-due-card", full_page=False)
    dialog.get_by_role("button", name="Salva carta").click()
    expect(page.get_by_test_id("unpaid")).to_have_count(0)
    expect(page.get_by_test_id("invoices")).not_to_contain_text("Non pagata")


# -- 12 and 13: the request form -------------------------------------------------------------


def test_a_lower_tier_request_shows_the_features_lost(page: Page, server: Server) -> None:
    account = signed_in(page, seed(server))
    starter = page.get_by_test_id("tier-starter")
    dialog = open_dialog(starter.get_by_role("button", name="Contact us"))
    expect(dialog.get_by_test_id("request-price")).to_have_text("$15.00")
    lost = dialog.get_by_test_id("request-lost").locator("li")
    expect(lost).to_have_text(["Conditional automations", "Landing pages", "Lead scoring",
                               "Site messages"])
    expect(dialog.get_by_test_id("request-gained")).to_have_count(0)
    shot(page, "en-request-features-lost", full_page=False)
    dialog.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Your request was sent.")
    with server.services.database.transaction() as store:
        (sent,) = store.requests.of_account(account.account_id)
    assert sent.desired is not None and (sent.desired.tier, sent.reason) == ("starter",
                                                                             "tier_lower")


def test_removing_an_add_on_in_italian_shows_what_is_lost(page: Page, server: Server) -> None:
    signed_in(page, italian(server, addons=("sms",), contacts=2500))
    dialog = open_dialog(page.get_by_role("button", name="Contattaci").first)
    expect(dialog.get_by_label("Motivo")).to_have_value("")
    dialog.get_by_label("SMS").uncheck()
    expect(dialog.get_by_test_id("request-lost").locator("li")).to_have_text(["SMS"])
    expect(dialog.get_by_test_id("request-price")).to_have_text("69,00\u00a0€")
    shot(page, "it-request-addon-removed", full_page=False)


def test_unbundling_shows_the_sales_features_lost(page: Page, server: Server) -> None:
    signed_in(page, seed(server, product="bundle", tier="plus", seats=3))
    dialog = open_dialog(page.get_by_role("button", name="Contact us").first)
    dialog.locator("select[name=product]").select_option("marketing")
    expect(dialog.get_by_test_id("request-lost").locator("li")).to_have_text(
        ["Contact and lead scoring", "Deals and pipelines", "Sales tasks"])
    expect(dialog.get_by_test_id("request-quote")).to_contain_text(
        "Change or unbundle the product")


def test_contact_us_starts_with_no_reason_and_prices_the_plan_picked(page: Page,
                                                                     server: Server) -> None:
    account = signed_in(page, seed(server))
    dialog = open_dialog(page.get_by_role("button", name="Contact us").first)
    expect(dialog.get_by_label("Reason")).to_have_value("")
    expect(dialog.locator("select[name=product]")).to_have_value("marketing")
    expect(dialog.locator("select[name=tier]")).to_have_value("plus")
    expect(dialog.get_by_test_id("request-quote")).to_contain_text("This is your current plan.")
    dialog.locator("select[name=product]").select_option("sales")
    dialog.locator("select[name=tier]").select_option("pro")
    expect(dialog.get_by_test_id("request-target")).to_have_text(
        "Sales Pro · 1 user seat · Monthly")
    expect(dialog.get_by_test_id("request-price")).to_have_text("$49.00")
    expect(dialog.get_by_test_id("request-gained").locator("li")).to_contain_text(
        ["Deals and pipelines"])
    expect(dialog.get_by_test_id("request-lost").locator("li")).to_contain_text(
        ["Email marketing"])
    shot(page, "en-request-pick-plan", full_page=False)
    dialog.get_by_role("button", name="Send request").click()  # no reason yet: refused
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").select_option("product_change")
    dialog.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Your request was sent.")
    with server.services.database.transaction() as store:
        (sent,) = store.requests.of_account(account.account_id)
    assert sent.desired is not None
    assert (sent.desired.product, sent.desired.tier, sent.desired.contacts,
            sent.reason) == ("sales", "pro", None, "product_change")


def test_the_request_form_in_italian(page: Page, server: Server) -> None:
    signed_in(page, italian(server))
    dialog = open_dialog(page.get_by_role("button", name="Contattaci").first)
    expect(dialog.get_by_label("Motivo")).to_have_value("")
    dialog.locator("select[name=tier]").select_option("enterprise")
    expect(dialog.get_by_test_id("request-price")).to_have_text("145,00\u00a0€")
    expect(dialog.get_by_test_id("request-quote")).to_contain_text(
        "Puoi anche fare questa modifica da solo in questa pagina.")
    shot(page, "it-request-pick-plan", full_page=False)


# -- 14: the user menu ----------------------------------------------------------------------


def test_the_name_opens_a_menu_by_keyboard(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    page.goto("/billing/bundle")
    menu = page.get_by_test_id("user-menu")
    name = menu.locator("summary")
    expect(name).to_contain_text("Ada Lovelace")
    name.focus()
    expect(menu.get_by_role("link", name="Billing & Upgrade")).to_be_hidden()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    link = menu.get_by_role("link", name="Billing & Upgrade")
    expect(link).to_be_visible()
    shot(page, "en-user-menu", full_page=False)
    page.keyboard.press("Escape")
    expect(link).to_be_hidden()
    expect(name).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}/billing")
    name.click()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("button", name="Sign out")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")


def test_the_user_menu_in_italian(page: Page, server: Server) -> None:
    signed_in(page, italian(server))
    menu = page.get_by_test_id("user-menu")
    menu.locator("summary").click()
    expect(menu.get_by_role("link", name="Fatturazione e upgrade")).to_be_visible()
    expect(menu.get_by_role("button", name="Esci")).to_be_visible()
    shot(page, "it-user-menu", full_page=False)
    page.locator("h1").click()  # a click elsewhere closes it
    expect(menu.get_by_role("link", name="Fatturazione e upgrade")).to_be_hidden()


# -- 15: seats and active users -------------------------------------------------------------


def test_the_page_never_shows_fewer_seats_than_active_users(page: Page,
                                                            server: Server) -> None:
    """Three people use the account, so it has three seats (README's screenshot is this
    state: test-artifacts/screenshots/en-billing-page-readme.png)."""
    signed_in(page, seed(server, seats=3))
    expect(page.get_by_test_id("seats")).to_have_text("3")
    expect(page.locator(".fact", has=page.get_by_test_id("seats"))).to_contain_text(
        "3 active users")
    shot(page, "en-billing-page-readme")
