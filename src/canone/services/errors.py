"""The services' errors, on top of the billing core's (canone.billing.errors): every error
the services raise is defined here, and nowhere else.

    BillingError
    ├── InvalidField            bad input; names the field             → 422 / exit 1
    │   └── InvalidBillingDetails   every wrong field of a form at once → 422
    └── ServiceError
        ├── NotFound            no such account, invoice, request…     → 404
        ├── Forbidden           the actor may not do this              → 403
        ├── ChangeRefused       needs a change request (reasons)       → 409
        ├── StaleQuote          price changed, please review again     → 409
        ├── Busy                another payment for the account runs   → 409
        ├── InvalidTransition   a request cannot move that way         → 409
        ├── AccountRestricted   past due: no purchase until it pays    → 409
        ├── NoFreeSeat          every user seat is taken               → 409
        ├── Conflict            a uniqueness rule refused the write    → 409
        ├── PaymentFailed       declined, insufficient funds, no card  → 402
        └── PaymentPending      the card network did not answer        → 402
            ├── PaymentActionRequired  3-D Secure to finish on the page → 202 (confirm)
            └── StaleDebitPending  a debit whose quote went stale: not applied → 402

    RefusedDestination          a webhook URL that is not a public address

    GatewayError                what a payment gateway (a port adapter) raises; the
    ├── CardRejected            services turn each into one of the errors above
    ├── BelowMinimumCharge
    ├── RefundRefused
    └── GatewayTimeout

The web layer maps this tree to HTTP statuses once (web/problems.py: STATUS), the CLI to
messages and exit codes (cli.py).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from canone.billing.errors import BillingError, InvalidField

T = TypeVar("T")


class _OfAccount(Protocol):
    @property
    def account_id(self) -> str: ...


OwnedRecord = TypeVar("OwnedRecord", bound=_OfAccount)


class ServiceError(BillingError):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    code = "not_found"


def existing(value: T | None, what: str) -> T:
    """`value`, which the caller has reason to know exists (it wrote it, locked it, or read
    a row that points at it): a None means the records disagree, and is a NotFound naming
    `what`, not a crash further on."""
    if value is None:
        raise NotFound(f"{what} not found")
    return value


def on_account(record: OwnedRecord | None, account_id: str, missing: str) -> OwnedRecord:
    """`record` if it belongs to the account; another account's is as missing as none (the
    NotFound `missing`), so ids do not leak across accounts."""
    if record is None or record.account_id != account_id:
        raise NotFound(missing)
    return record


class Forbidden(ServiceError):
    code = "forbidden"

    def __init__(self, message: str, primary_admin: str | None = None) -> None:
        super().__init__(message)
        self.primary_admin = primary_admin  # whom to ask for access, when there is one


class ChangeRefused(ServiceError):
    code = "change_refused"

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class StaleQuote(ServiceError):
    code = "stale_quote"

    def __init__(self, message: str = "The price changed, please review again.") -> None:
        super().__init__(message)


class StaleQuoteRefunded(StaleQuote):
    """The payment succeeded after the quote went stale (SPEC §9): the change was not
    applied and the payment is refunded to the card."""

    code = "stale_quote_refunded"


class Busy(ServiceError):
    code = "busy"


class InvalidTransition(ServiceError):
    code = "invalid_transition"


class AccountRestricted(ServiceError):
    """A past-due account buys nothing new until its open invoice is paid."""

    code = "account_restricted"


class NoFreeSeat(ServiceError):
    """Another active user needs a user seat the plan does not have."""

    code = "no_free_seat"


class ProviderMismatch(ServiceError):
    """Asked for what another payment provider does (e.g. a Stripe set-up on the sandbox)."""

    code = "wrong_payment_provider"


class PaymentFailed(ServiceError):
    code = "payment_failed"

    def __init__(self, message: str, decline_code: str = "declined") -> None:
        super().__init__(message)
        self.decline_code = decline_code


class PaymentPending(ServiceError):
    code = "payment_pending"


class PaymentActionRequired(PaymentPending):
    """On-session, the customer's bank asks them to authenticate (3-D Secure): the page's
    Stripe.js finishes it with `client_secret`; nothing applies until the payment has
    succeeded. Still pending for every caller that cannot act on it."""

    code = "requires_action"

    def __init__(self, message: str, provider_id: str, client_secret: str) -> None:
        super().__init__(message)
        self.provider_id = provider_id
        self.client_secret = client_secret


class StaleDebitPending(PaymentPending):
    """A change paid by SEPA Direct Debit whose quote went stale before it could apply on
    the mandate (SPEC §9): the change is not applied, and the debit, still processing,
    settles it: refunded in full if it succeeds, nothing owed if it fails."""

    code = "stale_quote_debit"


class Conflict(ServiceError):
    """A uniqueness rule refused the write (duplicate key, a taken e-mail address, an
    invoice for a billed period). The database's unique constraints raise it too, so two
    writes racing past the same check end as a Conflict, not as a crash."""

    code = "conflict"


class InvalidBillingDetails(InvalidField):
    """Every wrong field of a form at once; `field`/`message` are the first one's."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(field, message)
        self.errors = errors

    def under(self, prefix: str) -> InvalidBillingDetails:
        """Every field named inside `prefix` (e.g. `billing_details.vat_id` at sign-up)."""
        return InvalidBillingDetails({f"{prefix}.{field}": message
                                      for field, message in self.errors.items()})


class RefusedDestination(Exception):
    """The destination is not a public address (the message says which and why)."""


# -- the payment gateway port's errors ------------------------------------------------------


class GatewayError(Exception):
    """Base of what a payment gateway raises (services.ports.PaymentGateway)."""


class CardRejected(GatewayError):
    """The card cannot be stored (bad number, expired, wrong cvc); `field` names which part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class BelowMinimumCharge(GatewayError):
    """The amount is under the provider's minimum charge: nothing was charged (SPEC §9: the
    amount is carried to the account's next invoice)."""

    def __init__(self, amount_minor: int, minimum_minor: int, currency: str) -> None:
        super().__init__(f"{amount_minor} is below the minimum charge of {minimum_minor}"
                         f" (minor units of {currency})")
        self.amount_minor = amount_minor
        self.minimum_minor = minimum_minor
        self.currency = currency


class RefundRefused(GatewayError):
    """The provider refused the refund (more than is left, a failed payment, …)."""


class GatewayTimeout(GatewayError):
    """No answer in time: the charge may or may not have been taken. Settle it with
    `PaymentGateway.lookup` (reconciliation), never by charging again with a new key."""
