"""The ports: what the services need from the outside world, as interfaces.

Adapters in `canone.db` and `canone.integrations` implement them; `canone.bootstrap` wires
the real ones, tests wire real or fake ones. Nothing here imports infrastructure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

# -- time ---------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


# -- payments -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Card:
    """Card details as typed by a person; never stored by canone."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str


@dataclass(frozen=True, slots=True)
class StoredCard:
    """What canone keeps of a card: the gateway's token and what a person recognises."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


SUCCEEDED = "succeeded"
DECLINED = "declined"
INSUFFICIENT_FUNDS = "insufficient_funds"


@dataclass(frozen=True, slots=True)
class ChargeResult:
    status: str  # SUCCEEDED, DECLINED or INSUFFICIENT_FUNDS
    charge_id: str | None  # set when the money was taken
    message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


class CardRejected(Exception):
    """The card cannot be stored (bad number, expired, wrong cvc); `field` names which part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class GatewayTimeout(Exception):
    """No answer in time: the charge may or may not have been taken. Settle it with
    `PaymentGateway.lookup` (reconciliation), never by charging again with a new key."""


class PaymentGateway(Protocol):
    def store_card(self, card: Card) -> StoredCard: ...

    def charge(
        self, card_token: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge once per idempotency key: a retry with the same key returns the first
        outcome and never takes money twice. May raise GatewayTimeout."""
        ...

    def lookup(self, idempotency_key: str) -> ChargeResult | None:
        """The outcome of an earlier charge with this key, or None if none reached the
        network."""
        ...


# -- email --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    data: bytes


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None  # stable id, so a resend can be recognised


class Mailer(Protocol):
    def send(self, email: Email) -> None:
        """Deliver or raise; the outbox retries on failure."""
        ...


# -- invoice documents --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    amount: Decimal  # negative for credits


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """Everything printed on an invoice, already in the account's language except amounts
    and dates, which the renderer formats for `locale`."""

    locale: str  # "en" or "it"
    currency: str
    number: str
    issued_on: date
    period_start: date | None
    period_end: date | None
    seller_name: str
    seller_address: tuple[str, ...]
    buyer_name: str
    buyer_email: str
    lines: tuple[DocumentLine, ...]
    total: Decimal
    credit_applied: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    status: str
    notes: tuple[str, ...] = field(default=())


class InvoiceRenderer(Protocol):
    def render(self, document: InvoiceDocument) -> bytes:
        """The PDF file."""
        ...
