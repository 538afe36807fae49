"""The arithmetic of a credit note (SPEC §8), pure.

A credit note takes the tax rule of the invoice it corrects, except that a reduction agreed
more than a year after the invoice carries no VAT (art. 26(3) DPR 633/72: the seller may no
longer take the VAT back). It never gives back more than its invoice has left: the
invoice's gross total less every credit note issued against it before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from canone.billing.money import ZERO, round_money
from canone.billing.periods import add_months
from canone.billing.tax import TaxTreatment, tax_amount

LATE_REDUCTION = "late_reduction"
CENT = Decimal("0.01")


def late_reduction(country: str) -> TaxTreatment:
    return TaxTreatment(LATE_REDUCTION, ZERO, country, "N2.2", "late_reduction_26")


def credit_treatment(invoice_treatment: TaxTreatment, invoice_date: date,
                     on: date) -> TaxTreatment:
    """The treatment of a credit note dated `on` against an invoice dated `invoice_date`."""
    if on > add_months(invoice_date, 12):
        return late_reduction(invoice_treatment.country)
    return invoice_treatment


def left_to_credit(invoice_total: Decimal, credited: Sequence[Decimal]) -> Decimal:
    """What an invoice has left to give back (gross): never below zero."""
    return max(ZERO, invoice_total - sum(credited, ZERO))


def gross(net: Decimal, treatment: TaxTreatment) -> Decimal:
    return round_money(net) + tax_amount(treatment.rate, net)


def net_of_gross(amount: Decimal, treatment: TaxTreatment) -> Decimal:
    """The largest net whose gross (net + its tax, half-up) is at most `amount`: what a
    credit note lists when a gross amount is given back (a partial refund). Its gross is
    `amount` itself whenever some net gives exactly that amount."""
    net = round_money(amount * 100 / (100 + treatment.rate))
    while net > ZERO and gross(net, treatment) > amount:
        net -= CENT
    while gross(net + CENT, treatment) <= amount:
        net += CENT
    return max(net, ZERO)
