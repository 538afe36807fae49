"""Accessibility: axe-core over every page and open dialog in English and Italian (the
demo's accounts, as `canone demo` makes them), the focus ring and form borders at 3:1
(WCAG 1.4.11), what screen readers are told (slider values, language links, Italian text,
the confirmation after a purchase)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from canone import demo
from canone.bootstrap import demo_vies

from .axe import assert_accessible
from .conftest import BASE, Server, open_dialog, seed, shot, sign_in, signed_in

LANGS = ("en", "it")
# (demo account, dialogs its billing page opens: opener selector → dialog id)
DIALOGS = {
    "[data-open=dlg-contacts]": "dlg-contacts",
    "[data-open=dlg-seats]": "dlg-seats",
    "[data-open=dlg-tier]": "dlg-tier",
    "[data-open=dlg-addon]": "dlg-addon",
    "[data-open=dlg-interval]": "dlg-interval",
    "[data-open=dlg-request]": "dlg-request",
    "[data-open=dlg-card]": "dlg-card",
    "[data-open=dlg-cancel]": "dlg-cancel",
}


@pytest.fixture(scope="module")
def demo_data(server: Server) -> None:
    """The demo's accounts, made through the services on the suite's server (once)."""
    server.clock.instant = BASE
    demo.seed(server.services, demo_vies())


def demo_sign_in(page: Page, email: str, lang: str) -> None:
    page.goto(f"/login?lang={lang}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", demo.PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


# -- axe-core ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_sign_in_page_has_no_serious_violations(page: Page, lang: str) -> None:
    page.goto(f"/login?lang={lang}")
    assert_accessible(page, f"sign-in ({lang})")
    page.fill("input[name=email]", "nobody@example.com")
    page.fill("input[name=password]", "wrong password")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, f"sign-in with an error ({lang})")


@pytest.mark.parametrize("slug", [a.slug for a in demo.ACCOUNTS])
@pytest.mark.parametrize("lang", LANGS)
def test_billing_page_of_each_demo_account(page: Page, demo_data: None, slug: str,
                                           lang: str) -> None:
    demo_sign_in(page, f"owner@{slug}.example", lang)
    page.goto(f"/billing?lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page, f"billing page of {slug} ({lang})")


@pytest.mark.parametrize("slug", ["northwind", "alpina"])
@pytest.mark.parametrize("lang", LANGS)
def test_every_dialog_of_the_billing_page(page: Page, demo_data: None, slug: str,
                                          lang: str) -> None:
    demo_sign_in(page, f"owner@{slug}.example", lang)
    page.goto(f"/billing?lang={lang}")
    opened = []
    for opener, dialog_id in DIALOGS.items():
        buttons = page.locator(opener)
        if buttons.count() == 0:
            continue
        buttons.first.click()
        dialog = page.locator(f"#{dialog_id}")
        expect(dialog).to_be_visible()
        expect(dialog.locator("[aria-busy=true]")).to_have_count(0)
        assert_accessible(page, f"{dialog_id} of {slug} ({lang})", f"#{dialog_id}")
        opened.append(dialog_id)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
    assert {"dlg-contacts", "dlg-seats", "dlg-request", "dlg-card", "dlg-cancel"} <= set(opened)
    # The review step of the contact limit, priced.
    page.locator("[data-open=dlg-contacts]").first.click()
    page.locator("#contacts-slider").press("ArrowRight")
    page.locator("#contacts-slider").press("Enter")
    expect(page.locator("#dlg-contacts [data-testid=review-due-today]")).to_be_visible()
    assert_accessible(page, f"contact review of {slug} ({lang})", "#dlg-contacts")


@pytest.mark.parametrize("slug,lang", [("northwind", "en"), ("bellavista", "it"),
                                       ("pinnacle", "it"), ("lumen", "en")])
def test_bundle_page_and_its_dialog(page: Page, demo_data: None, slug: str, lang: str) -> None:
    demo_sign_in(page, f"owner@{slug}.example", lang)
    page.goto(f"/billing/bundle?lang={lang}")
    expect(page.locator("[data-quote-part=summary] [data-testid=future-price]").first
           ).to_be_visible()
    assert_accessible(page, f"bundle page of {slug} ({lang})")
    page.locator("[data-open=dlg-bundle]").click()
    expect(page.locator("#dlg-bundle [data-testid=review-due-today]")).to_be_visible()
    assert_accessible(page, f"bundle dialog of {slug} ({lang})", "#dlg-bundle")


def demo_account_id(server: Server, slug: str) -> str:
    with server.services.database.transaction() as store:
        owner = store.people.user_by_email(f"owner@{slug}.example")
    assert owner is not None
    return owner.account_id


@pytest.mark.parametrize("lang", LANGS)
def test_console_queue_account_and_request(page: Page, server: Server, demo_data: None,
                                           lang: str) -> None:
    demo_sign_in(page, demo.STAFF_EMAIL, lang)
    page.goto(f"/console?lang={lang}")
    assert_accessible(page, f"console queue ({lang})")
    page.get_by_role("row").filter(has_text=demo.REDUCING.name).get_by_role("link").last.click()
    expect(page.locator(".customer-message")).to_be_visible()
    assert_accessible(page, f"console request ({lang})")
    page.goto("/console/accounts")
    assert_accessible(page, f"console accounts ({lang})")
    # The past-due account (unpaid invoice, failed attempts) and an Italian one.
    for slug in (demo.PAST_DUE.slug, demo.REDUCING.slug):
        page.goto(f"/console/accounts/{demo_account_id(server, slug)}")
        assert_accessible(page, f"console account of {slug} ({lang})")


# -- 26: the focus ring and form borders -------------------------------------------------


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


_COLOURS = """([selector, property]) => {
  const el = document.querySelector(selector);
  const rgb = (text) => text.match(/\\d+/g).slice(0, 3).map(Number);
  let back = el.parentElement;
  while (back && getComputedStyle(back).backgroundColor.match(/rgba\\(.*, 0\\)$|transparent/))
    back = back.parentElement;
  return [rgb(getComputedStyle(el)[property]),
          rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255, 255, 255)")];
}"""


def colours(page: Page, selector: str, prop: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    fore, back = page.evaluate(_COLOURS, [selector, prop])
    return tuple(fore), tuple(back)


def test_focus_ring_is_whole_and_at_least_3_to_1(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    page.get_by_role("button", name="Edit user seats").click()
    page.locator("#seats-input").focus()
    page.keyboard.press("Shift+Tab")  # the "−" button, focused by keyboard
    minus = page.get_by_role("button", name="Remove a seat")
    expect(minus).to_be_focused()
    ring, back = colours(page, "#dlg-seats [data-delta='-1']", "outlineColor")
    assert contrast(ring, back) >= 3, (ring, back)  # type: ignore[arg-type]
    assert page.evaluate(
        "() => getComputedStyle(document.querySelector('.stepper')).overflow") == "visible"
    # The ring is drawn all round the button: 2 px out (the offset), then 3 px of ring.
    box = minus.bounding_box()
    assert box is not None
    picture = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    middle_y = round(box["y"] + box["height"] / 2)
    left_of_button = picture.getpixel((round(box["x"]) - 4, middle_y))
    above_button = picture.getpixel((round(box["x"] + box["width"] / 2), round(box["y"]) - 4))
    assert left_of_button == ring and above_button == ring, (left_of_button, above_button)
    shot(page, "en-seats-focus-ring", full_page=False)


def test_form_borders_are_at_least_3_to_1(page: Page, server: Server) -> None:
    signed_in(page, seed(server))
    page.get_by_role("button", name="Update", exact=True).click()
    border, back = colours(page, "#dlg-card input[name=number]", "borderTopColor")
    assert contrast(border, back) >= 3, (border, back)  # type: ignore[arg-type]
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Edit user seats").click()
    border, back = colours(page, "#dlg-seats .stepper", "borderTopColor")
    assert contrast(border, back) >= 3, (border, back)  # type: ignore[arg-type]


def test_contrast_formula_matches_wcag() -> None:
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(contrast((0xF5, 0x9E, 0x0B), (255, 255, 255)), 2) == 2.15  # the old ring


# -- 27: what screen readers are told --------------------------------------------------------


@pytest.mark.parametrize("lang,start,moved", [("en", "1,000 contacts", "2,500 contacts"),
                                              ("it", "1.000 contatti", "2.500 contatti")])
def test_bundle_slider_says_contacts_from_the_start(page: Page, server: Server, lang: str,
                                                   start: str, moved: str) -> None:
    account = seed(server, locale=lang)
    sign_in(page, account.email, lang=lang)
    page.goto("/billing/bundle")
    slider = page.locator("#bundle-contacts")
    expect(slider).to_have_attribute("aria-valuetext", start)
    slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", moved)
    expect(page.get_by_role("slider", name="Contact limit" if lang == "en"
                            else "Limite di contatti")).to_have_attribute("aria-valuetext", moved)


def test_language_links_are_named_with_their_visible_text(page: Page) -> None:
    page.goto("/login?lang=en")
    italian = page.get_by_role("link", name="IT – Italiano")
    expect(italian).to_have_text("IT")
    expect(italian).to_have_attribute("lang", "it")
    page.goto("/login?lang=it")
    expect(page.get_by_role("link", name="EN – English")).to_have_text("EN")


def test_italian_customer_text_in_the_console_is_marked_italian(page: Page, demo_data: None
                                                                ) -> None:
    demo_sign_in(page, demo.STAFF_EMAIL, "en")
    page.goto("/console?lang=en")
    page.get_by_role("row").filter(has_text=demo.REDUCING.name).get_by_role("link").last.click()
    message = page.locator(".customer-message")
    expect(message).to_contain_text("Non usiamo più le automazioni avanzate")
    expect(message).to_have_attribute("lang", "it")
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("lang", LANGS)
def test_the_confirmation_after_a_purchase_gets_focus(page: Page, server: Server,
                                                      lang: str) -> None:
    account = seed(server, locale=lang)
    sign_in(page, account.email, lang=lang)
    dialog = open_dialog(page.locator("[data-testid=addon-sms] [data-open=dlg-addon]"))
    expect(dialog.get_by_test_id("review-due-today")).to_be_visible()
    dialog.locator("button[type=submit]").click()
    confirmation = page.get_by_test_id("confirmation")
    expect(confirmation).to_be_focused()
    expect(confirmation).to_have_attribute("role", "status")
    shot(page, f"{lang}-a11y-confirmation-focused", full_page=False)
    assert_accessible(page, f"billing page after a purchase ({lang})")


def test_axe_reports_what_it_finds(page: Page) -> None:
    """The check itself: a button without a name is a critical violation."""
    page.set_content('<html lang="en"><head><title>t</title></head>'
                     '<body><main><h1>t</h1><button></button></main></body></html>')
    with pytest.raises(AssertionError, match="critical button-name"):
        assert_accessible(page, "a page with a nameless button")


@pytest.mark.parametrize("lang", LANGS)
def test_phone_width_pages_and_dialogs(browser, server: Server, demo_data: None,  # type: ignore[no-untyped-def]
                                       lang: str) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 812},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    phone = context.new_page()
    try:
        demo_sign_in(phone, "owner@northwind.example", lang)
        phone.goto(f"/billing?lang={lang}")
        assert_accessible(phone, f"billing page at 375 px ({lang})")
        shot(phone, f"{lang}-a11y-billing-375")
        phone.locator("[data-open=dlg-seats]").first.click()
        phone.locator("#seats-input").focus()
        phone.keyboard.press("Tab")  # "+", focused by keyboard: its ring must show whole
        expect(phone.locator("#dlg-seats [data-delta='1']")).to_be_focused()
        assert_accessible(phone, f"seats dialog at 375 px ({lang})", "#dlg-seats")
        shot(phone, f"{lang}-a11y-seats-focus-375", full_page=False)
        phone.keyboard.press("Escape")
        phone.goto("/billing/bundle")
        phone.locator("#bundle-contacts").focus()
        assert_accessible(phone, f"bundle page at 375 px ({lang})")
        shot(phone, f"{lang}-a11y-bundle-375")
    finally:
        context.close()
