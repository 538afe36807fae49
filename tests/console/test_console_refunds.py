"""The console's "Refund" button (SPEC §9): staff refund a paid invoice through the payment
provider (the sandbox here), in part or in full; an amount beyond what is left is refused
with the reason and refunds nothing; once refunded in full the invoice says so."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

import stored
from canone.services import refunds
from canone.services.context import Services
from canone.services.ports import REFUND_FAILED, REFUND_PENDING, Dispute, RefundResult
from canone.services.records import Invoice
from canone.settings import Settings
from canone.web.app import create_app

from .conftest import csrf_of, customer, plan, sign_in


def only_invoice(svc: Services, account_id: str) -> Invoice:
    with svc.database.read() as store:
        (invoice,) = store.invoices.of_account(account_id, 10, None)
        return invoice


def section(html: str, title: str) -> str:
    """The words of a page section (its heading's id), without the markup."""
    part = html.split(f'id="{title}">', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", part).split())


def refund(staff: TestClient, account_id: str, invoice_id: str, amount: str) -> object:
    page = staff.get(f"/console/accounts/{account_id}")
    assert f'action="/console/invoices/{invoice_id}/refund"' in page.text
    return staff.post(f"/console/invoices/{invoice_id}/refund",
                      data={"csrf": csrf_of(page.text), "amount": amount},
                      follow_redirects=False)


def test_staff_refund_in_part_then_the_rest(staff: TestClient, svc: Services) -> None:
    who = customer(svc, plan(tier="plus"))  # 49.00 paid at sign-up
    invoice = only_invoice(svc, who.account_id)

    part = refund(staff, who.account_id, invoice.id, "10,00")
    assert part.status_code == 303  # type: ignore[attr-defined]
    shown = staff.get(part.headers["location"])  # type: ignore[attr-defined]
    assert f"Invoice {invoice.number}: the refund went through." in shown.text

    too_much = refund(staff, who.account_id, invoice.id, "40.00")
    assert too_much.status_code == 422  # type: ignore[attr-defined]
    assert ("Nothing was refunded: amount: at most 39.00 USD can be refunded: 49.00 was paid"
            " and 10.00 refunded already") in too_much.text  # type: ignore[attr-defined]

    rest = refund(staff, who.account_id, invoice.id, "")
    assert rest.status_code == 303  # type: ignore[attr-defined]
    assert only_invoice(svc, who.account_id).status == "refunded"
    page = staff.get(f"/console/accounts/{who.account_id}").text
    assert re.search(r'<span class="badge">Refunded</span>', page)
    assert f"/console/invoices/{invoice.id}/refund" not in page  # nothing left to refund
    with svc.database.read() as store:
        rows = sorted(p.amount for p in store.payments.of_account(who.account_id))
    assert rows == [-3900, -1000, 4900]

    # The customer's Billing & Upgrade page says so too.
    settings = Settings(database_url="sqlite://", secret_key="test-secret")
    with TestClient(create_app(settings, svc), base_url="http://testserver") as own:
        sign_in(own, who.email)
        billing = own.get("/billing")
    assert billing.status_code == 200
    assert re.search(r'<span class="badge ">Refunded</span>', billing.text)


def test_staff_see_a_disputed_invoice_and_the_account_stays_active(
        staff: TestClient, svc: Services) -> None:
    """SPEC §9: a dispute marks the invoice disputed and shows in the console; it does not
    by itself restrict the account (the handler's side: tests/services/test_provider_disputes)."""
    who = customer(svc, plan(tier="plus"))
    invoice = only_invoice(svc, who.account_id)
    with svc.database.transaction() as store:
        refunds.record_dispute(svc, store, invoice.id, Dispute(
            "du_1QmT9hLkdIwHu7ixDsp00002", "pi_disputed", 4900, "needs_response", "fraudulent"))

    page = staff.get(f"/console/accounts/{who.account_id}").text
    assert '<span class="badge danger">Disputed</span>' in page
    assert "<code>invoice.disputed</code>" in page
    assert "reason: fraudulent" in page
    assert f"/console/invoices/{invoice.id}/refund" not in page  # the bank took it back
    assert stored.account(svc, who.account_id).status == "active"


def test_staff_see_a_refund_that_failed_in_words(staff: TestClient, svc: Services) -> None:
    """SPEC §9: a pending refund the provider then failed (as Stripe's refund.failed is
    recorded: tests/services/test_refund_outcomes.py) leaves the invoice paid, and the
    console says the refund failed, with the provider's reason, on the invoice and in the
    audit trail."""
    who = customer(svc, plan(tier="plus", currency="EUR"))
    invoice = only_invoice(svc, who.account_id)
    for status, why in ((REFUND_PENDING, ""),
                        (REFUND_FAILED, "The refund failed: expired_or_canceled_card.")):
        with svc.database.transaction() as store:
            refunds.record_refund(svc, store, invoice.id, RefundResult(
                "re_3QmT6bLkdIwHu7ix0pnd0001", status, 4900, why, None), actor="support")
    assert only_invoice(svc, who.account_id).status == "paid"

    english = staff.get(f"/console/accounts/{who.account_id}").text
    assert (f"{invoice.number} Apr 16, 2026 First period €0.00 €49.00 €0.00 €49.00 "
            "Refund failed The refund failed: expired_or_canceled_card. Amount to refund of"
            ) in section(english, "invoices-title")
    assert ("The refund of €49.00 on invoice "
            f"{invoice.number} failed: the money was not returned and the invoice stays paid."
            ) in section(english, "audit-title")
    assert "<code>invoice.refund_failed</code>" not in english

    italian = staff.get(f"/console/accounts/{who.account_id}?lang=it").text
    assert "Rimborso non riuscito" in section(italian, "invoices-title")
    assert (f"Il rimborso di 49,00 € sulla fattura {invoice.number} non è riuscito: il "
            "denaro non è stato restituito e la fattura resta pagata."
            ) in section(italian, "audit-title")


def test_the_queue_lists_disputed_payments(staff: TestClient, svc: Services) -> None:
    """SPEC §9: staff are told of a dispute where they look first, the queue page."""
    quiet = staff.get("/console").text
    assert "Disputed payments" not in quiet  # no list while nothing is disputed
    who = customer(svc, plan(tier="plus", currency="EUR"), name="Studio Alpina")
    invoice = only_invoice(svc, who.account_id)
    with svc.database.transaction() as store:
        refunds.record_dispute(svc, store, invoice.id, Dispute(
            "du_1QmT9hLkdIwHu7ixDsp00003", "pi_disputed", 4900, "needs_response", "fraudulent"))

    english = staff.get("/console").text
    assert section(english, "disputes-title") == (
        "Disputed payments The cardholder asked their bank for the money back: answer the "
        "dispute in Stripe. Disputed on Account Invoice Amount "
        f"Apr 16, 2026, 10:00 AM Studio Alpina {invoice.number} €49.00")
    assert f'<a href="/console/accounts/{who.account_id}">Studio Alpina</a>' in english
    italian = staff.get("/console?lang=it").text
    assert section(italian, "disputes-title") == (
        "Pagamenti contestati Il titolare della carta ha chiesto il rimborso alla sua banca: "
        "rispondi alla contestazione in Stripe. Contestato il Account Fattura Importo "
        f"16 apr 2026, 10:00 Studio Alpina {invoice.number} 49,00 €")
