"""The Content-Security-Policy of the pages is enforced by the browser: a style or script
that is not the site's own file is blocked and reported (the `page` fixture fails any test
that causes a report, so every e2e test checks the pages against the policy)."""

from __future__ import annotations

from playwright.sync_api import Page

from .conftest import Server


def test_the_browser_blocks_an_inline_script_and_reports_it(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server.url)
    page: Page = context.new_page()
    reports: list[str] = []
    page.on("console", lambda message: reports.append(message.text))
    page.goto("/login")

    page.evaluate("""() => { const s = document.createElement('script');
                            s.textContent = 'window.ran = true'; document.body.append(s); }""")

    assert page.evaluate("() => window.ran === undefined")
    assert any("Content Security Policy" in text for text in reports), reports
    context.close()
