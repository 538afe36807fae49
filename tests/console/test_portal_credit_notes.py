"""A customer downloads the account's own credit notes from the Billing & Upgrade page
(SPEC §8): another account's is not found, and a user without billing rights gets none."""

from __future__ import annotations

from fastapi.testclient import TestClient

from canone.services import accounts, credit_notes
from canone.services.context import Services
from canone.services.documents import UNUSED_TIME
from canone.services.records import ADMIN

from .conftest import PASSWORD, Customer, customer, plan, sign_in


def noted(svc: Services, who: Customer) -> str:
    """A credit note of 10.00 against the account's first invoice: its id."""
    with svc.database.transaction() as store:
        (invoice,) = store.invoices.of_account(who.account_id, 10, None)
        return credit_notes.credit_gross(svc, store, invoice, 1000, UNUSED_TIME).id


def test_the_own_credit_note_only(svc: Services, client: TestClient) -> None:
    ada, bob = customer(svc, plan(currency="EUR")), customer(svc, plan(currency="EUR"))
    own, other = noted(svc, ada), noted(svc, bob)
    sign_in(client, ada.email)

    pdf = client.get(f"/billing/credit-notes/{own}.pdf")
    assert (pdf.status_code, pdf.content[:5]) == (200, b"%PDF-")
    assert pdf.headers["cache-control"] == "private, no-store"
    assert client.get(f"/billing/credit-notes/{other}.pdf").status_code == 404
    assert client.get("/billing/credit-notes/cn_nope.pdf").status_code == 404


def test_a_user_without_billing_rights_gets_no_credit_note(svc: Services,
                                                           client: TestClient) -> None:
    ada = customer(svc, plan(currency="EUR", seats=2))
    note = noted(svc, ada)
    accounts.add_user(svc, ada.actor, ada.account_id, "cy@example.com", "Cy", PASSWORD,
                      role=ADMIN)
    sign_in(client, "cy@example.com")

    refused = client.get(f"/billing/credit-notes/{note}.pdf")
    assert refused.status_code == 403
    assert b"%PDF" not in refused.content
