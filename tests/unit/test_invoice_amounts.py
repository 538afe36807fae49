"""The draft every invoice is issued from (`billing.invoicing.draft_invoice`), with
hypothesis: for any net lines and any rule, tax = Σ per rate of round_half_up(rate ×
taxable), total = subtotal + tax, and the gross credit pays part of the total like a
payment without touching the tax."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from test_tax_properties import cents, half_up_cents, treatments

from canone.billing.invoicing import InvoiceStatus, draft_invoice
from canone.billing.pricing import Line
from canone.billing.tax import TaxTreatment

lines = st.lists(cents.map(lambda c: Line("base", "a line", Decimal(c) / 100)),
                 min_size=1, max_size=12)
balances = st.integers(min_value=0, max_value=100_000_00)


@given(lines, treatments, balances, st.booleans())
def test_an_invoice_is_taxed_per_rate_and_adds_up(net: list[Line], treatment: TaxTreatment,
                                                  balance: int, paid: bool) -> None:
    invoice = draft_invoice(net, paid=paid, credit_available=balance, treatment=treatment)

    subtotal = sum(int(line.amount * 100) for line in net)
    tax = half_up_cents(Fraction(treatment.rate) / 100 * Fraction(subtotal, 100))
    assert invoice.subtotal == subtotal
    assert [(t.rule, t.rate, t.natura, t.taxable, t.amount) for t in invoice.tax_lines] == [
        (treatment.rule, treatment.rate, treatment.natura, subtotal, tax)]
    assert invoice.tax == tax
    assert invoice.total == invoice.subtotal + invoice.tax
    # Credit is applied like a payment: as much as the balance and the total allow.
    assert invoice.credit_applied == min(balance, max(invoice.total, 0))
    assert invoice.amount_paid == (max(invoice.total, 0) - invoice.credit_applied
                                   if paid else 0)
    assert (invoice.status == InvoiceStatus.PAID) == (paid or invoice.amount_due <= 0)
    unpaid = draft_invoice(net, paid=paid, treatment=treatment)
    assert unpaid.tax_lines == invoice.tax_lines  # the credit never changes the taxable


@given(lines, balances)
def test_without_a_treatment_an_invoice_stays_net(net: list[Line], balance: int) -> None:
    invoice = draft_invoice(net, paid=False, credit_available=balance)
    assert (invoice.tax_lines, invoice.total) == ((), sum(int(x.amount * 100) for x in net))
