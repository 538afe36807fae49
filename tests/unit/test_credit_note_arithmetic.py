"""The arithmetic of credit notes (SPEC §8), pure: the net a gross amount gives back, what an
invoice has left, and no VAT on a reduction more than a year after its invoice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from canone.billing.credit_notes import (
    LATE_REDUCTION,
    credit_treatment,
    gross,
    left_to_credit,
    net_of_gross,
)
from canone.billing.tax import DOMESTIC, TaxTreatment

CENT = Decimal("0.01")
cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
rates = st.sampled_from(["0", "17", "19", "20", "21", "22", "25.5", "27"]).map(Decimal)


@given(cents, rates)
def test_the_net_of_a_gross_amount_is_the_largest_whose_gross_fits(amount: Decimal,
                                                                   rate: Decimal) -> None:
    treatment = TaxTreatment(DOMESTIC, rate, "IT", None, "vat")
    net = net_of_gross(amount, treatment)
    assert net >= 0 and net == net.quantize(CENT)
    assert gross(net, treatment) <= amount
    assert gross(net + CENT, treatment) > amount


@given(cents, st.lists(cents, max_size=5))
def test_an_invoice_never_has_less_than_nothing_left(total: Decimal,
                                                     credited: list[Decimal]) -> None:
    left = left_to_credit(total, credited)
    assert left == max(Decimal(0), total - sum(credited, Decimal(0)))


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
       st.integers(min_value=0, max_value=800))
def test_no_vat_only_more_than_twelve_months_after_the_invoice(issued: date,
                                                               days: int) -> None:
    domestic = TaxTreatment(DOMESTIC, Decimal(22), "IT", None, "vat")
    on = issued + timedelta(days=days)
    treatment = credit_treatment(domestic, issued, on)
    a_year_on = issued.replace(year=issued.year + 1) if (issued.month, issued.day) != (2, 29) \
        else date(issued.year + 1, 2, 28)
    assert (treatment.rule == LATE_REDUCTION) == (on > a_year_on)
    assert treatment.rate == (0 if on > a_year_on else 22)
