"""Electronic invoices (SPEC §8): what a FatturaPA file is made from, and the ports the
services need to make and send one. The builder and the folder outbox live in
`canone.integrations.einvoice`.

    EInvoiceDocument   an issued invoice or credit note, as the file must state it
    ExchangeRates      the ECB reference rate of a date (a USD document goes to SDI in EUR)
    EInvoiceOutbox     hands a file to the SDI intermediary; reads back SDI's receipts
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from canone.billing.frozen import quick_init
from canone.billing.parties import BillingDetails
from canone.billing.seller import Seller
from canone.billing.tax import TaxTreatment

INVOICE = "invoice"  # TipoDocumento TD01
CREDIT_NOTE = "credit_note"  # TD04

CARD = "card"  # ModalitaPagamento MP08
SEPA_DEBIT = "sepa_debit"  # MP20


@dataclass(frozen=True, slots=True)
class EInvoiceLine:
    description: str
    amount: Decimal  # net, in the document's currency (a credit note's are positive)
    treatment: TaxTreatment
    period_start: date | None = None
    period_end: date | None = None  # the period's last day (the end is exclusive elsewhere)


@dataclass(frozen=True, slots=True)
class EInvoicePayment:
    means: str  # CARD or SEPA_DEBIT
    amount: Decimal  # what was charged, in the document's currency


@dataclass(frozen=True, slots=True)
class CorrectedInvoice:
    """The invoice a credit note corrects (FatturaPA `DatiFattureCollegate`)."""

    number: str
    date: date


@quick_init
@dataclass(frozen=True)
class EInvoiceDocument:
    kind: str  # INVOICE or CREDIT_NOTE
    number: str  # e.g. "2026-000042", "NC-2026-000001"
    date: date  # in the seller's calendar
    currency: str  # EUR or USD
    customer: BillingDetails  # as they were when the document was issued
    lines: tuple[EInvoiceLine, ...]
    total: Decimal  # gross, in the document's currency: the file must add up to it
    stamp_duty: Decimal = Decimal("0.00")
    payment: EInvoicePayment | None = None
    corrects: CorrectedInvoice | None = None
    reason: str | None = None  # FatturaPA `Causale`, e.g. why a credit note is issued


@dataclass(frozen=True, slots=True)
class EInvoiceFile:
    file_name: str  # IT<transmitter id>_<progressive>.xml
    content: bytes


class ExchangeRates(Protocol):
    def eur_rate(self, currency: str, on: date) -> Decimal:
        """How many units of `currency` one euro bought on `on` (ECB reference rate; the
        latest published rate on or before that day)."""
        ...


DELIVERED = "delivered"  # RC: ricevuta di consegna
NOT_DELIVERED = "not_delivered"  # MC: issued, waiting in the customer's tax drawer
REJECTED = "rejected"  # NS: notifica di scarto; the document must be sent again, fixed
UNREADABLE = "unreadable"  # a receipt file canone cannot read


@dataclass(frozen=True, slots=True)
class SdiError:
    code: str  # e.g. "00404"
    description: str


@dataclass(frozen=True, slots=True)
class SdiReceipt:
    file_name: str  # the e-invoice file the receipt is about
    outcome: str  # DELIVERED, NOT_DELIVERED, REJECTED or UNREADABLE
    receipt_file: str
    sdi_id: str | None = None  # IdentificativoSdI
    received_at: datetime | None = None  # when SDI received the file
    errors: tuple[SdiError, ...] = ()


class EInvoiceOutbox(Protocol):
    def hand_over(self, file: EInvoiceFile) -> None:
        """Give a file to the intermediary; a file name is never used twice. Giving the
        same file again while the intermediary has not taken it changes nothing."""
        ...

    def receipts(self) -> list[SdiReceipt]:
        """Every SDI receipt the intermediary has brought back, oldest first."""
        ...


class EInvoiceBuilder(Protocol):
    def __call__(self, seller: Seller, document: EInvoiceDocument, progressive: int
                 ) -> EInvoiceFile:
        """The FatturaPA file of `document`, named with `progressive` (never reused).
        Raises when the document cannot become a valid file."""
        ...


@dataclass(frozen=True)
class EInvoicing:
    """What the services need to file e-invoices: the seller (whose `einvoicing` says
    whether to), the builder (with its exchange rates) and the intermediary's outbox."""

    seller: Seller
    build: EInvoiceBuilder
    outbox: EInvoiceOutbox
    rates: ExchangeRates  # a USD document's stamp duty is decided in euros

    @property
    def files(self) -> bool:
        return self.seller.einvoicing
