"""What staff see of money going back (SPEC §9), in a real browser: a disputed payment
listed on the queue page, the first page of the console, and a refund the provider failed
said in words on the account page; in English and Italian.

The dispute and the failed refund are recorded as the provider's events are
(tests/services/test_refund_outcomes.py, test_provider_disputes.py): Stripe's sandbox
here sends no events."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from canone.services import refunds
from canone.services.ports import REFUND_FAILED, REFUND_PENDING, Dispute, RefundResult

from .axe import assert_accessible
from .conftest import Server, add_staff, seed, shot, sign_in


def only_invoice(server: Server, account_id: str) -> tuple[str, str]:
    with server.services.database.read() as store:
        (invoice,) = store.invoices.of_account(account_id, 10, None)
    return invoice.id, invoice.number


def test_staff_see_a_dispute_on_the_queue_and_a_failed_refund(page: Page,
                                                              server: Server) -> None:
    svc = server.services
    disputed = seed(server, currency="EUR", name=f"Studio {secrets.token_hex(3)}")
    refunded = seed(server, currency="EUR", name=f"Bottega {secrets.token_hex(3)}")
    disputed_id, disputed_number = only_invoice(server, disputed.account_id)
    refund_id, refund_number = only_invoice(server, refunded.account_id)
    with svc.database.transaction() as store:
        refunds.record_dispute(svc, store, disputed_id, Dispute(
            f"du_{secrets.token_hex(8)}", "pi_disputed", 4900, "needs_response", "fraudulent"))
    re_id = f"re_{secrets.token_hex(8)}"
    for status, why in ((REFUND_PENDING, ""),
                        (REFUND_FAILED, "The refund failed: expired_or_canceled_card.")):
        with svc.database.transaction() as store:
            refunds.record_refund(svc, store, refund_id,
                                  RefundResult(re_id, status, 4900, why, None), actor="support")

    sign_in(page, add_staff(server))
    page.goto("/console")
    disputes = page.locator("section[aria-labelledby=disputes-title]")
    row = disputes.get_by_role("row").filter(has_text=disputed_number)
    expect(row).to_contain_text("€49.00")
    assert_accessible(page, "console queue with a dispute (en)")
    shot(page, "console-queue-dispute-en")
    page.goto("/console?lang=it")
    expect(page.locator("#disputes-title")).to_have_text("Pagamenti contestati")
    expect(row).to_contain_text("49,00 €")
    assert_accessible(page, "console queue with a dispute (it)")
    shot(page, "console-queue-dispute-it")
    row.get_by_role("link").click()
    expect(page.locator("section[aria-labelledby=invoices-title]")).to_contain_text("Contestata")

    page.goto(f"/console/accounts/{refunded.account_id}?lang=en")  # the choice sticks
    invoices = page.locator("section[aria-labelledby=invoices-title]")
    failed = invoices.get_by_role("row").filter(has_text=refund_number)
    expect(failed.locator(".badge")).to_have_text("Refund failed")
    expect(failed).to_contain_text("The refund failed: expired_or_canceled_card.")
    expect(page.locator("section[aria-labelledby=audit-title]")).to_contain_text(
        f"The refund of €49.00 on invoice {refund_number} failed: the money was not "
        "returned and the invoice stays paid.")
    assert_accessible(page, "console account with a failed refund (en)")
    shot(page, "console-refund-failed-en")
    page.goto(f"/console/accounts/{refunded.account_id}?lang=it")
    expect(invoices).to_contain_text("Rimborso non riuscito")
    expect(page.locator("section[aria-labelledby=audit-title]")).to_contain_text(
        f"Il rimborso di 49,00 € sulla fattura {refund_number} non è riuscito")
    shot(page, "console-refund-failed-it")
