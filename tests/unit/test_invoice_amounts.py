"""The invoice draft every invoice is issued from (`taxation.amounts`), with hypothesis: for
any net lines and any rule, tax = Σ per rate of round_half_up(rate × taxable), total =
subtotal + tax, and the gross balance pays part of the total without touching the tax."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from test_tax_properties import cents, half_up_cents, treatments

from canone.billing.pricing import Line
from canone.billing.tax import TaxTreatment
from canone.services.taxation import amounts

lines = st.lists(cents.map(lambda c: Line("base", "a line", Decimal(c) / 100)),
                 min_size=1, max_size=12)
balances = st.integers(min_value=0, max_value=100_000_00)


@given(lines, treatments, balances)
def test_an_invoice_is_taxed_per_rate_and_adds_up(net: list[Line], treatment: TaxTreatment,
                                                  balance: int) -> None:
    invoice = amounts(net, treatment, balance)

    subtotal = sum(int(line.amount * 100) for line in net)
    tax = half_up_cents(Fraction(treatment.rate) / 100 * Fraction(subtotal, 100))
    assert invoice.subtotal == subtotal
    assert [(t.rule, t.rate, t.natura, t.taxable, t.amount) for t in invoice.tax_lines] == [
        (treatment.rule, treatment.rate, treatment.natura, subtotal, tax)]
    assert invoice.tax == tax
    assert invoice.total == invoice.subtotal + invoice.tax
    # Credit is applied like a payment: as much as the balance and the total allow.
    assert invoice.credit_applied == min(balance, max(invoice.total, 0))
    assert invoice.amount_due == max(invoice.total, 0) - invoice.credit_applied
    assert amounts(net, treatment, 0).tax_lines == invoice.tax_lines  # never the taxable


@given(lines, balances)
def test_without_a_seller_an_invoice_stays_net(net: list[Line], balance: int) -> None:
    invoice = amounts(net, None, balance)
    assert (invoice.tax_lines, invoice.total) == ((), sum(int(x.amount * 100) for x in net))
