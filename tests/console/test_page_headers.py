"""Every kind of page (sign-in, Billing & Upgrade, support console, an error page) may not
be framed, is not sniffed, and runs only this site's own scripts and styles."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from canone.services.context import Services

from .conftest import PASSWORD, customer, sign_in

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
          "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
          "frame-ancestors 'none'")


def assert_page_headers(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"] == POLICY
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_the_sign_in_page_and_its_refusals(client: TestClient) -> None:
    form = client.get("/login")
    assert_page_headers(form)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    wrong = client.post("/login", data={"email": "nobody@example.com", "password": PASSWORD,
                                        "csrf": token.group(1)})
    assert wrong.status_code == 401
    assert_page_headers(wrong)


def test_the_billing_page_and_its_dialog_fragments(svc: Services, client: TestClient) -> None:
    ada = customer(svc)
    sign_in(client, ada.email)

    for path in ("/billing", "/billing?lang=it", "/billing/bundle"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert_page_headers(answer)
        assert "style=" not in answer.text  # the policy would block an inline style
        assert "<script>" not in answer.text


def test_the_console_pages(staff: TestClient) -> None:
    for path in ("/console", "/console/accounts"):
        answer = staff.get(path)
        assert answer.status_code == 200, path
        assert_page_headers(answer)
        assert "style=" not in answer.text


def test_an_error_page(staff: TestClient) -> None:
    answer = staff.get("/console/accounts/acc_0000000000000000")

    assert answer.status_code == 404
    assert_page_headers(answer)


@pytest.mark.parametrize("path", ["/static/app.css", "/static/dialog.js"])
def test_static_files_are_not_sniffed(client: TestClient, path: str) -> None:
    answer = client.get(path)

    assert answer.status_code == 200
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in answer.headers


def test_the_api_docs_may_not_be_framed_but_keep_their_scripts(client: TestClient) -> None:
    answer = client.get("/docs")

    assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert answer.headers["x-frame-options"] == "DENY"


def test_the_api_keeps_its_own_headers(client: TestClient) -> None:
    answer = client.get("/api/v1/catalog")

    assert answer.status_code == 401
    assert answer.headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'")
    assert answer.headers["referrer-policy"] == "no-referrer"
