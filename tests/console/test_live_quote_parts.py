"""The live quote renders only the parts of the dialog that asks (dialog.js names its
[data-quote-part] panels in `parts`); a body naming none gets all three."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from canone.services.context import Services

from .conftest import csrf_of, customer, sign_in

FIELDS = {"product": "marketing", "tier": "pro", "interval": "month", "currency": "USD",
          "contacts": "2500", "seats": "1", "addons": []}


def quoted(client: TestClient, svc: Services, **extra: object) -> dict[str, str]:
    who = customer(svc)
    sign_in(client, who.email)
    csrf = csrf_of(client.get("/billing").text)
    answer = client.post("/billing/quote", json={**FIELDS, **extra},
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    parts: dict[str, str] = answer.json()["parts"]
    return parts


def test_the_slider_gets_its_summary_and_review_only(client: TestClient, svc: Services
                                                     ) -> None:
    parts = quoted(client, svc, parts=["summary", "review"])
    assert list(parts) == ["summary", "review"]
    # Pro with 2,500 contacts: $149.00 a month, $70.00 more than with 1,000; 15 of April's
    # 30 days remain: $35.00 today.
    assert 'data-testid="future-price">$149.00<' in parts["summary"]
    assert 'data-testid="due-today">$35.00<' in parts["summary"]


def test_the_request_form_gets_its_own_part_only(client: TestClient, svc: Services) -> None:
    parts = quoted(client, svc, parts=["request"], desired_form="1", tier="plus")
    assert list(parts) == ["request"]
    assert 'data-testid="request-target"' in parts["request"]


@pytest.mark.parametrize("parts", [["review", "page"], ["review", {"x": 1}], [], "summary",
                                   None])
def test_parts_that_are_not_a_list_of_known_names_make_an_unreadable_request(
        client: TestClient, svc: Services, parts: object) -> None:
    who = customer(svc)
    sign_in(client, who.email)
    csrf = csrf_of(client.get("/billing").text)
    answer = client.post("/billing/quote", json={**FIELDS, "parts": parts},
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 400
    assert answer.json()["kind"] == "error"
    assert "could not be read. Reload the page" in answer.json()["parts"]["summary"]


def test_a_body_naming_no_parts_gets_all_three(client: TestClient, svc: Services) -> None:
    assert list(quoted(client, svc)) == ["summary", "review", "request"]
