"""The API docs render in Chromium with every request off this server refused, as on a
machine without internet: Swagger UI lists the operations, ReDoc its sections. (ReDoc's
footer asks for its logo from its own site: a decorative image, left to fail offline.)"""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from .conftest import Server, shot

SLOW = 30_000  # ms: the bundles are large and the machine may be busy


def offline(page: Page, server: Server) -> list[str]:
    """Refuse every request that leaves the server; the list collects those the page needs
    (everything but images)."""
    elsewhere: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(server.url + "/"):
            route.continue_()
            return
        if route.request.resource_type != "image":
            elsewhere.append(route.request.url)
        route.abort()

    page.route("**/*", guard)
    return elsewhere


def test_swagger_ui_lists_the_operations_offline(page: Page, server: Server) -> None:
    elsewhere = offline(page, server)
    page.goto("/docs")
    expect(page.locator(".info .title")).to_contain_text("canone", timeout=SLOW)
    operation = page.locator(".opblock", has_text="/api/v1/accounts/{account_id}/subscription"
                                                  "/preview")
    expect(operation.first).to_be_visible(timeout=SLOW)
    assert page.locator(".opblock").count() > 10
    shot(page, "en-api-docs", full_page=False)
    assert elsewhere == []


def test_redoc_renders_offline(page: Page, server: Server) -> None:
    elsewhere = offline(page, server)
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("canone", timeout=SLOW)
    expect(page.get_by_text("/api/v1/accounts/{account_id}/subscription/preview").first
           ).to_be_attached(timeout=SLOW)
    shot(page, "en-api-redoc", full_page=False)
    assert elsewhere == []
