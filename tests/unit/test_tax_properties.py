"""Invariants of the tax engine, with hypothesis: for any net lines and any rule, the tax is
the sum over rates of round_half_up(rate × that rate's taxable), and total = subtotal + tax."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from canone.billing.tax import (
    BUSINESS,
    KINDS,
    TaxCustomer,
    TaxTreatment,
    apply_credit,
    draft,
    draft_by_line,
    treatment_for,
)
from canone.billing.vat_rates import default_vat_rates

RATES = default_vat_rates()
COUNTRIES = [*sorted(RATES.countries), "US", "CH", "GB", "JP"]


@dataclass(frozen=True)
class Line:
    amount: Decimal


def half_up_cents(value: Fraction) -> int:
    """Round to whole cents, halves away from zero, in exact integer arithmetic."""
    cents = abs(value) * 100
    rounded = (cents.numerator * 2 + cents.denominator) // (cents.denominator * 2)
    return rounded if value >= 0 else -rounded


cents = st.integers(min_value=-10_000_00, max_value=10_000_00)
lines = st.lists(cents.map(lambda c: Line(Decimal(c) / 100)), min_size=1, max_size=12)
treatments = st.builds(
    lambda country, kind, confirmed, oss, days: treatment_for(
        TaxCustomer(country, kind, confirmed), seller_oss=oss,
        on=date(2025, 1, 1) + timedelta(days=days), rates=RATES),
    st.sampled_from(COUNTRIES), st.sampled_from(KINDS), st.booleans(), st.booleans(),
    st.integers(min_value=0, max_value=800))


def expected_tax_cents(pairs: list[tuple[Line, TaxTreatment]]) -> int:
    taxable: dict[TaxTreatment, Fraction] = {}
    for line, treatment in pairs:
        taxable[treatment] = taxable.get(treatment, Fraction(0)) + Fraction(line.amount)
    return sum(half_up_cents(Fraction(t.rate) / 100 * base) for t, base in taxable.items())


@given(lines, treatments)
def test_a_document_of_one_rule_is_taxed_once_on_its_subtotal(
        net: list[Line], treatment: TaxTreatment) -> None:
    document = draft(net, treatment)
    assert len(document.tax_lines) == 1
    assert document.tax * 100 == expected_tax_cents([(line, treatment) for line in net])
    assert document.subtotal == sum(line.amount for line in net)
    assert document.total == document.subtotal + document.tax
    assert document.tax_lines[0].taxable == document.subtotal


@given(st.lists(st.tuples(lines.map(lambda ls: ls[0]), treatments), min_size=1, max_size=12))
def test_a_document_of_several_rates_is_taxed_per_rate_on_each_rate_s_sum(
        pairs: list[tuple[Line, TaxTreatment]]) -> None:
    document = draft_by_line(pairs)
    assert document.tax * 100 == expected_tax_cents(pairs)
    assert document.total == document.subtotal + document.tax
    assert sum(t.taxable for t in document.tax_lines) == document.subtotal
    assert len({t.treatment for t in document.tax_lines}) == len(document.tax_lines)


@given(cents, st.integers(min_value=0, max_value=10_000_00))
def test_credit_never_exceeds_the_total_or_the_balance_and_the_rest_is_due(
        total_cents: int, balance_cents: int) -> None:
    total, balance = Decimal(total_cents) / 100, Decimal(balance_cents) / 100
    settled = apply_credit(total, balance)
    assert 0 <= settled.credit_applied <= max(total, 0)
    assert settled.credit_applied <= balance
    assert settled.amount_due == max(Decimal(0), total - balance)


@given(st.sampled_from(COUNTRIES), st.booleans())
def test_only_a_confirmed_eu_business_outside_italy_is_reverse_charged(
        country: str, oss: bool) -> None:
    confirmed = treatment_for(TaxCustomer(country, BUSINESS, True), seller_oss=oss,
                              on=date(2026, 1, 1), rates=RATES)
    in_eu = country in RATES.countries and country != "IT"
    assert (confirmed.rule == "reverse_charge") == in_eu
