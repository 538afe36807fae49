"""Account search and the account view: subscription, people, invoices, credit ledger,
requests and the audit trail."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from canone.services import requests, usage
from canone.services.access import SYSTEM_ACTOR
from canone.services.context import Services

from .conftest import SUPPORT, ask, customer, plan


def found(page_html: str) -> list[str]:
    return re.findall(r'href="/console/accounts/(acc_[0-9a-f]+)"', page_html)


def test_search_finds_accounts_by_name_id_or_a_users_email(staff: TestClient,
                                                          svc: Services) -> None:
    ada = customer(svc, name="Ada's Shop")
    bob = customer(svc, name="Bob's Bakery")
    assert found(staff.get("/console/accounts?q=bakery").text) == [bob.account_id]
    assert found(staff.get(f"/console/accounts?q={ada.email}").text) == [ada.account_id]
    assert found(staff.get(f"/console/accounts?q={bob.account_id}").text) == [bob.account_id]
    assert sorted(found(staff.get("/console/accounts").text)) == sorted(
        [ada.account_id, bob.account_id])
    nothing = staff.get("/console/accounts?q=zebra")
    assert found(nothing.text) == [] and "No account matches." in nothing.text


def test_the_account_view_shows_plan_invoices_ledger_requests_and_audit(
        staff: TestClient, svc: Services) -> None:
    ada = customer(svc, plan(tier="pro", contacts=2500), name="Ada's Shop")
    usage.report(svc, SYSTEM_ACTOR, ada.account_id, 2300, 1)
    request = ask(svc, ada, plan(tier="plus", contacts=2500))
    requests.transition(svc, SUPPORT, request.id, requests.COMPLETED, requests.NOW)
    page = staff.get(f"/console/accounts/{ada.account_id}")
    assert page.status_code == 200
    text = page.text
    assert "Ada&#39;s Shop" in text
    assert "Marketing Plus" in text and "2,500 contacts" in text
    assert "2,300 of 2,500 contacts" in text
    assert "Apr 1, 2026 – May 1, 2026" in text  # the current period
    assert re.search(r"2026-0000\d\d", text)  # the sign-up invoice's number
    assert "$149.00" in text  # what the first period of Pro cost
    # Pro 2,500 (149) → Plus 2,500 (69) on day 16: 74.50 − 34.50 = 40.00 credited.
    # Given back by credit note NC-2026-000001 against the sign-up invoice.
    assert "$40.00" in text and "Credit note NC-2026-000001 for invoice 2026-000001" in text
    assert f'href="/console/requests/{request.id}"' in text
    assert "Primary admin" in text and ada.email in text
    for action in ("account.created", "invoice.issued", "usage.threshold_reached",
                   "request.created", "subscription.request_applied", "credit_note.issued"):
        assert action in text
    assert "staff:sam@canone.test" in text  # who applied it


def test_an_unknown_account_is_a_404_page(staff: TestClient) -> None:
    page = staff.get("/console/accounts/acc_nope")
    assert page.status_code == 404
