"""A live quote for a customer whose VIES answer is stale asks VIES again and is taxed by
the new answer (SPEC §8). The sign-in and the quote share a read (`Services.one_read`),
which is not held open while VIES is asked: a VIES that does not answer would keep a pooled
connection per slider stop."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from canone.billing.parties import Address, BillingDetails
from canone.services import billing_details
from canone.services.context import Services
from canone.services.sellers import seller_in_effect
from canone.services.vies import ViesCheck
from canone.settings import Settings
from canone.web.app import create_app
from vies_answers import CountingVies, UnreachableVies

from .conftest import SUPPORT, csrf_of, customer, plan, sign_in

NORDWIND = BillingDetails("business", "Nordwind Handel GmbH",
                          Address("Unter den Linden 5", "10117", "Berlin", None, "DE"),
                          vat_id="DE136695976")


class ReadsNoticed(CountingVies):
    """Remembers, for each time it is asked, whether a read or transaction was open."""

    def __init__(self, svc: Services) -> None:
        super().__init__()
        self.svc = svc
        self.opened: list[bool] = []

    def check(self, vat_id: str, at: datetime) -> ViesCheck:
        self.opened.append(self.svc.database.open_store() is not None)  # type: ignore[attr-defined]
        return super().check(vat_id, at)


@pytest.fixture
def vies(svc: Services) -> ReadsNoticed:
    return ReadsNoticed(svc)


@pytest.fixture
def taxed(svc: Services, vies: ReadsNoticed) -> Services:
    return dataclasses.replace(svc, seller=seller_in_effect(None), vies=vies)


@pytest.fixture
def http(taxed: Services) -> Iterator[TestClient]:
    settings = Settings(database_url="sqlite://", secret_key="test-secret")
    with TestClient(create_app(settings, taxed), base_url="http://testserver") as client:
        yield client


def test_a_stale_vies_answer_is_asked_again_and_the_quote_taxed_by_the_new_one(
        taxed: Services, vies: ReadsNoticed, http: TestClient) -> None:
    who = customer(taxed, plan(currency="EUR"))
    # VIES could not be reached when the details were saved: no reverse charge yet.
    billing_details.save(dataclasses.replace(taxed, vies=UnreachableVies()), SUPPORT,
                         who.account_id, NORDWIND)
    sign_in(http, who.email)
    csrf = csrf_of(http.get("/billing").text)
    assert vies.asked == []
    fields = {"product": "marketing", "tier": "pro", "interval": "month", "currency": "EUR",
              "contacts": "2500", "seats": "1", "addons": [], "parts": ["review"]}

    answer = http.post("/billing/quote", json=fields, headers={"X-CSRF-Token": csrf})

    assert answer.status_code == 200, answer.text
    assert (vies.asked, vies.opened) == (["DE136695976"], [False])
    review = answer.json()["parts"]["review"]
    assert "Reverse charge, art. 7-ter DPR 633/72" in review
    assert 'data-testid="review-due-today">€35.00<' in review  # net: nothing added
    saved = billing_details.get(taxed, SUPPORT, who.account_id)
    assert saved is not None and billing_details.confirmed(saved)
