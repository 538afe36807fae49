"""Invoice drafts: what an invoice says about money (its net lines in minor units, the tax
of each rate, the gross total, the credit applied, what was paid and its status), decided
here, from the priced lines, the tax treatment and the credit available. The services
number, date and persist the draft; they decide nothing about money.

SPEC §8: tax is computed per rate on the sum of that rate's net lines, rounded half up once
(`canone.billing.tax`); the account's credit balance is gross and pays the total like a
payment, on every invoice (a purchase charged before it is issued too: the card pays the
rest, which is what was quoted); it never changes the taxable amount."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from canone.billing.frozen import quick_init
from canone.billing.money import from_minor, to_minor
from canone.billing.pricing import Line
from canone.billing.tax import TaxTreatment, apply_credit, draft


class InvoiceStatus(StrEnum):
    """Stored and shown as these strings (a StrEnum equals its value)."""

    PAID = "paid"
    OPEN = "open"  # payment outstanding: collected by the billing run
    REFUNDED = "refunded"  # refunds through the payment provider cover what was paid
    PARTIALLY_REFUNDED = "partially_refunded"  # refunds that succeeded cover part of it
    DISPUTED = "disputed"  # the cardholder disputed the payment with their bank


@quick_init
@dataclass(frozen=True)
class InvoiceLine:
    key: str
    description: str
    amount: int  # minor units, negative for credits


@quick_init
@dataclass(frozen=True)
class InvoiceTaxLine:
    """The tax of one rate of an invoice: `amount` = round_half_up(rate × `taxable`),
    `taxable` the sum of that rate's net lines. It keeps the whole treatment (rule, rate,
    state, FatturaPA `Natura`, legal note) the invoice was issued with."""

    rule: str  # domestic, reverse_charge, oss or outside_scope
    rate: Decimal  # percent, e.g. Decimal("22")
    country: str  # the state whose rate it is
    natura: str | None  # N2.1, N2.2, N7; None when Italian VAT is charged
    note: str  # a key of canone.billing.tax.NOTES
    taxable: int  # minor units, net
    amount: int  # minor units

    @property
    def treatment(self) -> TaxTreatment:
        return TaxTreatment(self.rule, self.rate, self.country, self.natura, self.note)


class InvoiceAmounts:
    """The tax and the amount due of an invoice, from its tax lines, its (gross) total and
    what settled it: the same sums for a draft and for the issued invoice
    (`canone.services.records.Invoice`), which declare these fields."""

    tax_lines: tuple[InvoiceTaxLine, ...]
    total: int
    credit_applied: int
    amount_paid: int

    @property
    def tax(self) -> int:
        return sum(line.amount for line in self.tax_lines)

    @property
    def amount_due(self) -> int:
        return self.total - self.credit_applied - self.amount_paid


@quick_init
@dataclass(frozen=True)
class InvoiceDraft(InvoiceAmounts):
    lines: tuple[InvoiceLine, ...]
    subtotal: int  # Σ lines (net)
    tax_lines: tuple[InvoiceTaxLine, ...]  # one per rate; none without a treatment
    total: int  # gross: subtotal + tax
    credit_applied: int
    amount_paid: int
    status: InvoiceStatus


def is_taxed(lines: Sequence[Line], treatment: TaxTreatment | None) -> bool:
    """Whether the draft of `lines` under `treatment` has tax lines (`draft_invoice`): it
    needs a treatment (none when no seller is set up) and a line to tax. Asked ahead of the
    draft too: a document's FatturaPA file, and its SDI progressive, depend on it."""
    return treatment is not None and bool(lines)


def draft_invoice(lines: Iterable[Line], *, paid: bool, credit_available: int = 0,
                  treatment: TaxTreatment | None = None) -> InvoiceDraft:
    """The draft of an invoice of `lines`, taxed by `treatment` (None: no tax, the total is
    the subtotal). The (gross) credit available pays what it can of the total; a paid one
    (a purchase charged before it is issued) has the rest paid, otherwise the invoice is
    paid when the credit covers it, else open for what is left."""
    lines = tuple(lines)
    drafted = tuple(InvoiceLine(line.key, line.description, to_minor(line.amount))
                    for line in lines)
    subtotal = sum(line.amount for line in drafted)
    tax_lines: tuple[InvoiceTaxLine, ...] = ()
    if is_taxed(lines, treatment) and treatment is not None:  # the second for mypy's sake
        taxed = draft(lines, treatment)
        tax_lines = tuple(
            InvoiceTaxLine(t.rule, t.rate, t.treatment.country, t.treatment.natura, t.note,
                           to_minor(t.taxable), to_minor(t.amount))
            for t in taxed.tax_lines)
    total = subtotal + sum(line.amount for line in tax_lines)
    credit = to_minor(apply_credit(from_minor(total), from_minor(credit_available))
                      .credit_applied)
    return InvoiceDraft(
        lines=drafted, subtotal=subtotal, tax_lines=tax_lines, total=total,
        credit_applied=credit, amount_paid=max(total, 0) - credit if paid else 0,
        status=InvoiceStatus.PAID if paid or total - credit <= 0 else InvoiceStatus.OPEN)
