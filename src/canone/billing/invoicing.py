"""Invoice drafts: what an invoice says about money (its lines in minor units, the total,
the credit applied, what was paid and its status), decided here, from the priced lines
alone. The services number, date and persist the draft; they decide nothing about money.

An `InvoiceDraft` is a frozen dataclass so that later rules (a tax line per rate, a
subtotal) add fields here without the callers changing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from canone.billing.money import to_minor
from canone.billing.pricing import Line


class InvoiceStatus(StrEnum):
    """Stored and shown as these strings (a StrEnum equals its value)."""

    PAID = "paid"
    OPEN = "open"  # payment outstanding: collected by the billing run
    REFUNDED = "refunded"  # refunds through the payment provider cover what was paid
    DISPUTED = "disputed"  # the cardholder disputed the payment with their bank


@dataclass(frozen=True)
class InvoiceLine:
    key: str
    description: str
    amount: int  # minor units, negative for credits


@dataclass(frozen=True)
class InvoiceDraft:
    lines: tuple[InvoiceLine, ...]
    total: int
    credit_applied: int
    amount_paid: int
    status: InvoiceStatus

    @property
    def amount_due(self) -> int:
        return self.total - self.credit_applied - self.amount_paid


def draft_invoice(lines: Iterable[Line], *, paid: bool, credit_available: int = 0
                  ) -> InvoiceDraft:
    """The draft of an invoice of `lines`. A paid one (a purchase charged before it is
    issued) uses no credit and is paid in full; otherwise the account's credit
    (`credit_available`, minor units) pays what it can, and the invoice is paid when that
    covers it, else open for what is left."""
    drafted = tuple(InvoiceLine(line.key, line.description, to_minor(line.amount))
                    for line in lines)
    total = sum(line.amount for line in drafted)
    credit = 0 if paid else min(credit_available, total)
    return InvoiceDraft(
        lines=drafted, total=total, credit_applied=credit,
        amount_paid=total if paid else 0,
        status=InvoiceStatus.PAID if paid or total - credit <= 0 else InvoiceStatus.OPEN)
