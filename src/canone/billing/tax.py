"""Which tax a document takes, and its tax per rate (SPEC §8).

Catalog prices and every proration line are net. A document takes one *treatment* (rule,
rate, FatturaPA `Natura`, legal note) from the customer's billing details on its date;
its tax is computed per rate on the sum of that rate's net lines, rounded half-up to the
cent once, never per line. Credit is gross and settles a document's total like a payment.

| customer                                        | rule             | rate             |
|-------------------------------------------------|------------------|------------------|
| in Italy                                        | `domestic`       | IT 22 %          |
| other EU state, business, VIES-confirmed VAT id | `reverse_charge` | 0 (N2.1, 7-ter)  |
| other EU state, otherwise, seller `oss = true`  | `oss`            | that state's (N7)|
| the same, seller `oss = false`                  | `domestic`       | IT 22 %          |
| outside the EU, business / consumer             | `outside_scope`  | 0 (N2.1 / N2.2)  |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from canone.billing.money import ZERO, round_money
from canone.billing.vat_rates import VatRates

DOMESTIC = "domestic"
REVERSE_CHARGE = "reverse_charge"
OSS = "oss"
OUTSIDE_SCOPE = "outside_scope"
RULES = (DOMESTIC, REVERSE_CHARGE, OSS, OUTSIDE_SCOPE)

BUSINESS = "business"
CONSUMER = "consumer"
KINDS = (BUSINESS, CONSUMER)

SELLER_COUNTRY = "IT"  # canone's tax rules are those of an Italian seller

# Virtual stamp duty (imposta di bollo): due on a document without VAT over this amount.
STAMP_DUTY = Decimal("2.00")
STAMP_DUTY_THRESHOLD = Decimal("77.47")
NO_VAT_NATURE = frozenset({"N2.1", "N2.2"})

# The text each document shows for its tax, in English and Italian; {rate} and {country}
# are filled in by `note_text`.
NOTES: dict[str, dict[str, str]] = {
    "vat": {"en": "VAT {rate} %", "it": "IVA {rate} %"},
    "vat_oss": {"en": "VAT {country} {rate} %", "it": "IVA {country} {rate} %"},
    "reverse_charge_7ter": {
        "en": "Reverse charge, art. 7-ter DPR 633/72",
        "it": "Inversione contabile, art. 7-ter DPR 633/72",
    },
    "outside_scope_7ter": {
        "en": "Outside the scope of EU VAT, art. 7-ter DPR 633/72",
        "it": "Operazione non soggetta, art. 7-ter DPR 633/72",
    },
    "outside_scope_7octies": {
        "en": "Outside the scope of EU VAT, art. 7-octies DPR 633/72",
        "it": "Operazione non soggetta, art. 7-octies DPR 633/72",
    },
    # A credit note for a reduction agreed more than a year after its invoice (§8).
    "late_reduction_26": {
        "en": "Reduction agreed more than a year after the invoice: no VAT, "
              "art. 26(3) DPR 633/72",
        "it": "Variazione oltre un anno dall'operazione: fuori campo IVA, "
              "art. 26, c. 3, DPR 633/72",
    },
}


@dataclass(frozen=True, slots=True)
class TaxCustomer:
    """What the rule needs to know of a customer when a document is issued."""

    country: str  # ISO 3166 alpha-2 of the billing address
    kind: str  # BUSINESS or CONSUMER
    vat_id_confirmed: bool  # VIES confirmed the VAT id (a valid checksum alone is not enough)


@dataclass(frozen=True, slots=True)
class TaxTreatment:
    rule: str
    rate: Decimal  # percent: the VAT charged (for `oss`, the customer's state's rate)
    country: str  # the state whose rate it is
    natura: str | None  # FatturaPA `Natura` (N2.1, N2.2, N7); None when Italian VAT is charged
    note: str  # a key of NOTES

    def note_text(self, language: str) -> str:
        return note_text(self.note, self.rate, self.country, language)


def note_text(note: str, rate: Decimal, country: str, language: str) -> str:
    rate_text = f"{rate.normalize():f}"
    if language == "it":
        rate_text = rate_text.replace(".", ",")
    template = NOTES[note].get(language, NOTES[note]["en"])
    return template.format(rate=rate_text, country=country)


def treatment_for(customer: TaxCustomer, *, seller_oss: bool, on: date,
                  rates: VatRates) -> TaxTreatment:
    """The rule of SPEC §8 for a document dated `on` (in the seller's calendar)."""
    eu = rates.countries
    if customer.country == SELLER_COUNTRY:
        return _domestic(on, rates)
    if customer.country in eu:
        if customer.kind == BUSINESS and customer.vat_id_confirmed:
            return TaxTreatment(REVERSE_CHARGE, ZERO, customer.country, "N2.1",
                                "reverse_charge_7ter")
        if seller_oss:
            rate = rates.standard_rate(customer.country, on)
            return TaxTreatment(OSS, rate, customer.country, "N7", "vat_oss")
        return _domestic(on, rates)
    if customer.kind == BUSINESS:
        return TaxTreatment(OUTSIDE_SCOPE, ZERO, customer.country, "N2.1", "outside_scope_7ter")
    return TaxTreatment(OUTSIDE_SCOPE, ZERO, customer.country, "N2.2", "outside_scope_7octies")


def _domestic(on: date, rates: VatRates) -> TaxTreatment:
    rate = rates.standard_rate(SELLER_COUNTRY, on)
    return TaxTreatment(DOMESTIC, rate, SELLER_COUNTRY, None, "vat")


# -- a document's tax ------------------------------------------------------------------------


class NetLine(Protocol):
    @property
    def amount(self) -> Decimal: ...


L = TypeVar("L", bound=NetLine)


@dataclass(frozen=True, slots=True)
class TaxLine:
    """The tax of one rate of a document: `amount` = round_half_up(rate × taxable)."""

    treatment: TaxTreatment
    taxable: Decimal
    amount: Decimal

    @property
    def rule(self) -> str:
        return self.treatment.rule

    @property
    def rate(self) -> Decimal:
        return self.treatment.rate

    @property
    def note(self) -> str:
        return self.treatment.note

    def note_text(self, language: str) -> str:
        return self.treatment.note_text(language)


@dataclass(frozen=True)
class DocumentDraft(Generic[L]):
    """A document's net lines, its tax per rate and its gross total."""

    lines: tuple[L, ...]
    subtotal: Decimal
    tax_lines: tuple[TaxLine, ...]
    total: Decimal

    @property
    def tax(self) -> Decimal:
        return sum((line.amount for line in self.tax_lines), ZERO)


def tax_amount(rate: Decimal, taxable: Decimal) -> Decimal:
    return round_money(taxable * rate / 100)


def draft(lines: Sequence[L], treatment: TaxTreatment) -> DocumentDraft[L]:
    """A document of one treatment, as every document of SPEC §8 is."""
    return draft_by_line([(line, treatment) for line in lines])


def draft_by_line(lines: Sequence[tuple[L, TaxTreatment]]) -> DocumentDraft[L]:
    """A document whose lines may take different treatments: one tax line per treatment
    (in the order they first appear), taxed on the sum of its lines."""
    taxable: dict[TaxTreatment, Decimal] = {}
    for line, treatment in lines:
        taxable[treatment] = taxable.get(treatment, ZERO) + line.amount
    tax_lines = tuple(
        TaxLine(treatment, base, tax_amount(treatment.rate, base))
        for treatment, base in ((t, round_money(a)) for t, a in taxable.items())
    )
    subtotal = round_money(sum((line.amount for line, _ in lines), ZERO))
    tax = sum((line.amount for line in tax_lines), ZERO)
    return DocumentDraft(tuple(line for line, _ in lines), subtotal, tax_lines, subtotal + tax)


def stamp_duty(tax_lines: Sequence[TaxLine],
               to_eur: Callable[[Decimal], Decimal] | None = None) -> Decimal:
    """€2.00 when the document charges no VAT (only N2.1/N2.2) and its amount without VAT,
    in euros, is over €77.47; otherwise 0. The seller pays it: it is not added to the total.
    `to_eur` converts a document in another currency at the rate of its date."""
    if not tax_lines or any(line.treatment.natura not in NO_VAT_NATURE for line in tax_lines):
        return ZERO
    untaxed = sum((line.taxable for line in tax_lines), ZERO)
    if to_eur is not None:
        untaxed = to_eur(untaxed)
    return STAMP_DUTY if untaxed > STAMP_DUTY_THRESHOLD else ZERO


# -- credit, applied like a payment ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settlement:
    total: Decimal
    credit_applied: Decimal
    amount_due: Decimal


def apply_credit(total: Decimal, balance: Decimal) -> Settlement:
    """The account's (gross) credit balance pays as much of the total as it can; the taxable
    amount never changes. amount_due = max(0, total − balance)."""
    credit = min(max(balance, ZERO), max(total, ZERO))
    return Settlement(total, credit, max(ZERO, total - credit))


@dataclass(frozen=True, slots=True)
class ChargeNow:
    """What a plan change's preview adds to the net `due_now` of SPEC §4, and what the
    quote token binds: the card is charged `amount_due_now`, exactly as shown."""

    tax: TaxLine  # {rule, rate, taxable, amount}
    total_due_now: Decimal  # due_now + tax
    credit_applied: Decimal  # from the account's gross balance
    amount_due_now: Decimal  # max(0, total_due_now − balance)


def charge_now(due_now: Decimal, treatment: TaxTreatment, balance: Decimal) -> ChargeNow:
    tax = TaxLine(treatment, round_money(due_now), tax_amount(treatment.rate, due_now))
    settled = apply_credit(tax.taxable + tax.amount, balance)
    return ChargeNow(tax, settled.total, settled.credit_applied, settled.amount_due)
