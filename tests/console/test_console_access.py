"""Only support agents use the console: a customer gets a clear 403 page, a visitor the
sign-in page, and a form without its CSRF token changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from canone.services.context import Services

from .conftest import STAFF_EMAIL, ask, customer, plan, sign_in, stored_request


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    answer = client.get("/console?status=open", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/console%3Fstatus%3Dopen"


def test_the_agent_signs_in_on_the_shared_form_and_lands_on_the_queue(
        client: TestClient) -> None:
    sign_in(client, STAFF_EMAIL)
    page = client.get("/")
    assert page.status_code == 200
    assert str(page.url).endswith("/console")
    assert "Change requests" in page.text and "Sam Support" in page.text


def test_a_customer_gets_a_403_page_on_every_console_page(client: TestClient,
                                                          svc: Services) -> None:
    ada = customer(svc)
    request = ask(svc, ada, plan(tier="plus"))
    sign_in(client, ada.email)
    for path in ("/console", f"/console/requests/{request.id}", "/console/accounts",
                 f"/console/accounts/{ada.account_id}"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 403, path
        assert page.headers["content-type"].startswith("text/html")
        assert "The support console is for support staff" in page.text
        assert 'href="/billing"' in page.text  # the way back to their own page
        assert "Traceback" not in page.text


def test_a_customer_cannot_apply_their_own_request(client: TestClient, svc: Services) -> None:
    ada = customer(svc)
    request = ask(svc, ada, plan(tier="plus"))
    sign_in(client, ada.email)
    answer = client.post(f"/console/requests/{request.id}",
                         data={"action": "apply_now", "csrf": "x", "message": ""},
                         follow_redirects=False)
    assert answer.status_code == 403
    assert "The support console is for support staff" in answer.text
    assert stored_request(svc, request.id).status == "open"


def test_a_form_without_its_csrf_token_changes_nothing(staff: TestClient, svc: Services) -> None:
    ada = customer(svc)
    request = ask(svc, ada, plan(tier="plus"))
    answer = staff.post(f"/console/requests/{request.id}",
                        data={"action": "take", "message": ""}, follow_redirects=False)
    assert answer.status_code == 403
    assert "This form has expired" in answer.text
    assert stored_request(svc, request.id).status == "open"


def test_an_unknown_request_is_a_404_page(staff: TestClient) -> None:
    page = staff.get("/console/requests/req_nope")
    assert page.status_code == 404
    assert "Page not found" in page.text
