"""The records of SPEC §8's documents beside the invoice: credit notes and the FatturaPA
file of each document. Money is integer minor units, as in every record.

    CreditNote     gives back (part of) one issued invoice: its own gapless yearly series
                   (NC-2026-000001), positive net lines, the tax rule and customer of the
                   invoice it corrects, credited to the balance or refunded to the card
    EInvoice       the FatturaPA file of an invoice or credit note, as made when it was
                   issued, and what SDI answered about it
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from canone.billing.frozen import quick_init
from canone.billing.parties import BillingDetails
from canone.services.records import InvoiceTaxLine, Record

# Why a credit note was issued (SPEC §8).
UNUSED_TIME = "unused_time"  # a change applied now that leaves unused time (plan or request)
SUPERSEDED_PAYMENT = "superseded_payment"  # paid for a change another change overtook
REFUND = "refund"  # money back to the card
REASONS = (UNUSED_TIME, SUPERSEDED_PAYMENT, REFUND)

# Where the credited money goes.
TO_BALANCE = "balance"  # the account's credit balance (gross), used by the next invoices
TO_CARD = "card"  # a refund through the payment provider

# The state of a FatturaPA file.
PENDING = "pending"  # made, not yet handed to the SDI intermediary
HANDED_OVER = "handed_over"  # in the intermediary's folder; SDI has not answered yet


@dataclass(frozen=True)
class CreditNoteLine:
    key: str  # e.g. "unused_time", or the invoice line's key it gives back
    description: str  # English, as invoice lines are stored
    amount: int  # net, positive


@dataclass(frozen=True)
class CreditNote(Record):
    id: str
    account_id: str
    invoice_id: str  # the invoice it corrects
    invoice_number: str
    invoice_date: date  # the corrected invoice's date, in the seller's calendar
    number: str  # NC-YYYY-NNNNNN, gapless per year of the seller's calendar
    reason: str  # one of REASONS
    settlement: str  # TO_BALANCE or TO_CARD
    currency: str
    issued_at: datetime
    issued_on: date  # its date in the seller's calendar
    lines: tuple[CreditNoteLine, ...]
    subtotal: int  # net
    tax_lines: tuple[InvoiceTaxLine, ...]  # the corrected invoice's rule (none: untaxed)
    total: int  # gross: what goes back to the customer
    customer: BillingDetails | None  # the customer of the invoice it corrects
    stamp_duty: int = 0  # €2.00 of virtual stamp duty on a document without VAT over €77.47
    source_id: str | None = None  # what gave the money back: a change request, a refund…

    @property
    def tax(self) -> int:
        return sum(line.amount for line in self.tax_lines)


@quick_init
@dataclass(frozen=True)
class EInvoice(Record):
    id: str
    account_id: str
    document_kind: str  # "invoice" or "credit_note"
    document_id: str
    document_number: str
    file_name: str  # IT<transmitter>_<progressive>.xml, never reused
    content: bytes
    created_at: datetime
    state: str = PENDING  # PENDING, HANDED_OVER, or SDI's outcome (delivered, rejected, …)
    sdi: dict[str, Any] = field(default_factory=dict)  # SDI's id, date and errors, if any
