"""Invoices with their tax and parties (SPEC §8), refunds, and the credit ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from canone.web.api.models.base import (
    Amount,
    Strict_,
)
from canone.web.api.models.pricing import Line

Rate = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["22.00"],
                            description="A VAT rate in percent, with two decimals.")]


class TaxLineOut(BaseModel):
    """The tax of one rate of a document (SPEC §8): round_half_up(rate × taxable)."""

    rule: Literal["domestic", "reverse_charge", "oss", "outside_scope"]
    rate: Rate
    country: str = Field(description="The state whose rate it is (IT unless OSS).",
                         examples=["IT"])
    taxable: Amount
    amount: Amount
    note: str = Field(description="What the document says about its tax.",
                      examples=["VAT 22 %", "Reverse charge, art. 7-ter DPR 633/72"])


class AddressOut(BaseModel):
    street: str
    postcode: str
    city: str
    province: str | None
    country: str


class CustomerOut(BaseModel):
    """A customer's billing details (SPEC §8) as a document keeps them."""

    kind: Literal["business", "consumer"]
    legal_name: str
    address: AddressOut
    vat_id: str | None
    tax_code: str | None
    sdi_code: str | None
    pec: str | None


class InvoiceSellerOut(BaseModel):
    legal_name: str
    vat_id: str
    tax_code: str
    address: AddressOut


class InvoiceOut(BaseModel):
    id: str
    account_id: str
    subscription_id: str
    number: str = Field(examples=["2026-000001"])
    kind: str
    currency: str
    issued_at: datetime
    issued_on: date = Field(description="The document's date in the seller's calendar "
                                        "(Europe/Rome), which also picks its yearly series.")
    period_start: date | None
    period_end: date | None
    lines: list[Line]
    subtotal: Amount = Field(description="The lines' sum, net of tax.")
    tax_lines: list[TaxLineOut]
    total: Amount = Field(description="Gross: subtotal + tax.")
    customer: CustomerOut | None = Field(
        description="The billing details the invoice was issued with; null when the account "
                    "had none.")
    seller: InvoiceSellerOut | None
    credit_applied: Amount
    amount_paid: Amount
    amount_due: Amount
    status: Literal["paid", "open", "partially_refunded", "refunded", "disputed"] = Field(
        description="partially_refunded: refunds through the payment provider cover part "
                    "of what was paid; refunded: they cover all of it; "
                    "disputed: the cardholder disputed the payment with their bank.")
    pdf_url: str


class RefundIn(Strict_):
    amount: Annotated[str, Field(pattern=r"^[0-9]{1,9}\.[0-9]{2}$", examples=["12.00"],
                                 description="How much to refund; default: all that is left "
                                             "(paid and not refunded yet).")] | None = None


class RefundOut(BaseModel):
    id: str = Field(description="The payment provider's refund (re_…).")
    invoice_id: str
    amount: Amount
    currency: str
    status: Literal["succeeded", "pending", "failed"] = Field(
        description="pending: the money goes back later (SEPA); it may still fail.")
    message: str
    invoice: InvoiceOut


class LedgerEntryOut(BaseModel):
    id: str
    amount: Amount = Field(description="+ credit granted, − credit used")
    description: str
    invoice_id: str | None
    credit_note_id: str | None = Field(description="The credit note that granted it.")
    created_at: datetime


class LedgerOut(BaseModel):
    currency: str
    balance: Amount
    entries: list[LedgerEntryOut]
