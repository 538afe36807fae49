"""Invoice drafts (billing/invoicing.py): the money of an invoice, decided in the core from
the priced lines, the credit available and whether it was paid at issue."""

from __future__ import annotations

import json
from decimal import Decimal

from canone.billing.invoicing import (
    InvoiceDraft,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTaxLine,
    draft_invoice,
)
from canone.billing.pricing import Line
from canone.billing.tax import TaxTreatment

LINES = (Line("base", "Marketing Plus", Decimal("49.00")),
         Line("seats", "2 extra seats", Decimal("20.50")))


def test_a_paid_purchase_is_paid_in_full_by_the_card_without_credit() -> None:
    assert draft_invoice(LINES, paid=True) == InvoiceDraft(
        lines=(InvoiceLine("base", "Marketing Plus", 4900),
               InvoiceLine("seats", "2 extra seats", 2050)),
        subtotal=6950, tax_lines=(), total=6950, credit_applied=0, amount_paid=6950,
        status=InvoiceStatus.PAID)


def test_credit_pays_part_of_a_paid_purchase_and_the_card_the_rest() -> None:
    """SPEC §8: the credit balance is applied to every invoice, upgrades included."""
    draft = draft_invoice(LINES, paid=True, credit_available=1000)
    assert (draft.total, draft.credit_applied, draft.amount_paid, draft.amount_due) == (
        6950, 1000, 5950, 0)
    covered = draft_invoice(LINES, paid=True, credit_available=10_000)
    assert (covered.credit_applied, covered.amount_paid, covered.status) == (6950, 0, "paid")


def test_a_taxed_draft_has_its_tax_lines_and_a_gross_total() -> None:
    italian = TaxTreatment("domestic", Decimal("22"), "IT", None, "vat")
    draft = draft_invoice(LINES, paid=False, credit_available=1000, treatment=italian)
    # 69.50 × 22 % = 15.29 (15.290): one tax line on the sum, half up.
    assert draft.tax_lines == (InvoiceTaxLine("domestic", Decimal("22"), "IT", None, "vat",
                                              6950, 1529),)
    assert (draft.subtotal, draft.total, draft.credit_applied, draft.amount_due) == (
        6950, 8479, 1000, 7479)


def test_an_unpaid_invoice_uses_the_credit_it_can_and_is_open_for_the_rest() -> None:
    draft = draft_invoice(LINES, paid=False, credit_available=1000)
    assert (draft.total, draft.credit_applied, draft.amount_paid, draft.amount_due) == (
        6950, 1000, 0, 5950)
    assert draft.status == InvoiceStatus.OPEN


def test_credit_that_covers_the_invoice_pays_it_and_the_rest_stays_with_the_account() -> None:
    draft = draft_invoice(LINES, paid=False, credit_available=10_000)
    assert (draft.credit_applied, draft.amount_due, draft.status) == (6950, 0, "paid")


def test_without_credit_an_unpaid_invoice_is_open_unless_nothing_is_due() -> None:
    assert draft_invoice(LINES, paid=False).status == InvoiceStatus.OPEN
    nothing = draft_invoice([Line("base", "Free", Decimal("0.00"))], paid=False)
    assert (nothing.total, nothing.status) == (0, InvoiceStatus.PAID)


def test_statuses_are_their_stored_strings() -> None:
    assert InvoiceStatus.OPEN == "open" and f"{InvoiceStatus.PAID}" == "paid"
    assert json.dumps({"status": InvoiceStatus.OPEN}) == '{"status": "open"}'
