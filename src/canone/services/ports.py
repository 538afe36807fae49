"""The ports: what the services need from the outside world, as interfaces.

Adapters in `canone.db` and `canone.integrations` implement them; `canone.bootstrap` wires
the real ones, tests wire real or fake ones. Nothing here imports infrastructure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

# The gateway's errors are part of this port; they are defined with every other error.
from canone.services.errors import BelowMinimumCharge as BelowMinimumCharge
from canone.services.errors import CardRejected as CardRejected
from canone.services.errors import GatewayTimeout as GatewayTimeout
from canone.services.errors import RefundRefused as RefundRefused

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
    brand: str  # "visa", "mastercard", …; "sepa_debit" for a bank account
    last4: str
    exp_month: int  # 0 for a bank account (no expiry)
    exp_year: int
    country: str = ""  # of the issuing bank, when the gateway tells (ISO 3166 alpha-2)
    kind: str = "card"  # or SEPA_DEBIT


SEPA_DEBIT = "sepa_debit"  # the kind (and brand) of a bank account debited by SEPA


SUCCEEDED = "succeeded"
DECLINED = "declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
# Outcomes of a provider with payment intents (SPEC §9); the sandbox gives none of them.
REQUIRES_ACTION = "requires_action"  # on-session 3-D Secure: finish with `client_secret`
AUTHENTICATION_REQUIRED = "authentication_required"  # off-session: the customer must act
# On-session: the customer's bank challenge (3-D Secure) failed or was abandoned; nothing
# was charged, and the card is not known to be refused.
AUTHENTICATION_FAILED = "authentication_failed"
PROCESSING = "processing"  # e.g. a SEPA debit, for days: no second intent meanwhile
REQUIRES_CONFIRMATION = "requires_confirmation"  # opened, never confirmed: confirm it now
CANCELED = "canceled"
# Under the provider's minimum charge (SPEC §9): nothing charged, the amount carried to the
# account's next invoice as a debit line; the purchase or invoice is settled all the same.
CARRIED = "carried"
# Canceled by canone because what it paid for went stale meanwhile (SPEC §9: a quote).
STALE_QUOTE = "stale_quote"
FAILED_OUTCOMES = frozenset({DECLINED, INSUFFICIENT_FUNDS, AUTHENTICATION_REQUIRED,
                             AUTHENTICATION_FAILED, CANCELED, STALE_QUOTE})


@dataclass(frozen=True, slots=True)
class ChargeResult:
    status: str  # SUCCEEDED, one of FAILED_OUTCOMES, or still open (REQUIRES_ACTION, …)
    charge_id: str | None  # set when the money was taken
    message: str = ""
    provider_id: str | None = None  # the provider's intent (Stripe: pi_…), when it has one
    client_secret: str | None = None  # with REQUIRES_ACTION: what Stripe.js needs
    key: str | None = None  # canone's intent key, when read back from the provider

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    @property
    def settles(self) -> bool:
        """Completes what the intent pays for: paid, or carried to the next invoice."""
        return self.status in (SUCCEEDED, CARRIED)

    @property
    def final(self) -> bool:
        """Succeeded, carried or failed for good; otherwise the intent is still open."""
        return self.settles or self.status in FAILED_OUTCOMES


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """One charge of a payment intent of canone's: `key` is the intent's key, one per
    (invoice or quote, attempt); every provider request's idempotency key derives from it."""

    key: str
    card_token: str
    amount_minor: int
    currency: str
    off_session: bool  # renewals and retries: the customer is not there to authenticate


REFUND_SUCCEEDED, REFUND_PENDING, REFUND_FAILED = "succeeded", "pending", "failed"


@dataclass(frozen=True, slots=True)
class RefundResult:
    refund_id: str
    status: str  # REFUND_SUCCEEDED, REFUND_PENDING or REFUND_FAILED
    amount_minor: int
    message: str = ""
    provider_id: str | None = None  # the refunded intent (Stripe: pi_…), when told


@dataclass(frozen=True, slots=True)
class SetupSession:
    """A provider's card set-up in progress (Stripe: a SetupIntent) for its own form."""

    setup_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """An event the payment provider sent (Stripe's webhooks), its signature checked. It
    arrives at least once and in any order: a handler re-reads `object_id` from the
    provider and applies that state, and an `id` seen before changes nothing."""

    id: str
    type: str  # e.g. "payment_intent.succeeded"
    object_id: str  # e.g. "pi_…"
    object_type: str  # e.g. "payment_intent"
    created: int  # Unix time at the provider
    api_version: str | None


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

    # A charge in two steps (SPEC §9): the provider's intent is opened, its id stored by the
    # caller, then confirmed; an outcome lost to a crash or a time-out is read back by that
    # id, never by opening another.

    def minimum_charge(self, currency: str) -> int:
        """The smallest amount the provider charges, in minor units of `currency`."""
        ...

    def open_charge(self, request: ChargeRequest) -> str:
        """Open the provider's intent for `request`, unconfirmed, and return its id; the same
        request key gives the same intent. Raises BelowMinimumCharge."""
        ...

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        """Confirm an opened intent: the outcome, which may still be open (REQUIRES_ACTION,
        PROCESSING). Confirming one confirmed before answers its outcome. May raise
        GatewayTimeout."""
        ...

    def charge_outcome(self, provider_id: str) -> ChargeResult:
        """The intent's outcome now, as the provider has it (reconciliation, webhooks)."""
        ...

    def cancel_charge(self, provider_id: str) -> ChargeResult:
        """Cancel an intent that has not succeeded (a stale quote); its outcome after."""
        ...

    def refund(self, provider_id: str, amount_minor: int, key: str) -> RefundResult:
        """Refund `amount_minor` of a succeeded intent, once per `key` (the caller knows what
        is left to refund: it never asks for more). Raises RefundRefused."""
        ...

    def refund_outcome(self, refund_id: str) -> RefundResult:
        """A refund as the provider has it now: a pending one may still fail."""
        ...


@runtime_checkable
class HostedPaymentMethods(Protocol):
    """Cards and bank accounts collected by the provider's own form (Stripe Elements), so no
    number reaches canone. Stripe has it; the sandbox takes numbers (`store_card`)."""

    def create_customer(self, account_id: str, name: str) -> str:
        """The provider's customer for an account; the same account id gives the same one.
        No email: canone sends its own receipts, so the provider gets no address to send
        its own to (SPEC §9)."""
        ...

    def start_setup(self, customer: str, methods: tuple[str, ...]) -> SetupSession:
        """A set-up for off-session charges later, e.g. methods ("card",) or
        ("card", "sepa_debit")."""
        ...

    def save_payment_method(self, customer: str, payment_method: str) -> StoredCard:
        """Attach the payment method to the customer if the provider has not, and what canone
        keeps of it. Raises CardRejected (field "payment_method") with the provider's
        message when it cannot be saved."""
        ...


@dataclass(frozen=True, slots=True)
class Dispute:
    """A cardholder's dispute of a payment, as the provider has it."""

    dispute_id: str
    provider_id: str  # the disputed intent (pi_…)
    amount_minor: int
    status: str  # Stripe's: needs_response, won, lost, …
    reason: str


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """A payment method as the provider has it now, and the provider's customer it is
    saved to, if any."""

    card: StoredCard
    customer: str | None


@runtime_checkable
class ProviderObjects(Protocol):
    """What the provider's events are about, read back by id (SPEC §9: a handler re-reads
    the object and applies its state). Stripe has it; the sandbox sends no events."""

    def refunds_of_charge(self, charge_id: str) -> list[RefundResult]: ...

    def dispute(self, dispute_id: str) -> Dispute: ...

    def setup_method(self, setup_id: str) -> SavedMethod | None:
        """The payment method a set-up saved, once it succeeded; None before."""
        ...

    def saved_method(self, payment_method: str) -> SavedMethod: ...


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
class DocumentTaxLine:
    label: str  # "IVA 22 %", "VAT FR 20 %", "VAT 0 %"
    taxable: Decimal
    amount: Decimal


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
    notes: tuple[str, ...] = field(default=())  # legal notes first (reverse charge, …)
    # SPEC §8: the customer's address and ids under `buyer_name`; with `subtotal` set, the
    # totals show the net subtotal and one row per tax rate before the (gross) total.
    buyer_lines: tuple[str, ...] = field(default=())
    subtotal: Decimal | None = None
    tax_lines: tuple[DocumentTaxLine, ...] = field(default=())
    # A credit note (SPEC §8) prints its own title, the invoice it corrects (number, date)
    # and only its totals; its status says where the money went ("to_balance", "to_card").
    kind: str = "invoice"  # or "credit_note"
    corrects: tuple[str, date] | None = None


class InvoiceRenderer(Protocol):
    def render(self, document: InvoiceDocument) -> bytes:
        """The PDF file."""
        ...
