"""The services' errors, on top of the billing core's (canone.billing.errors).

    BillingError
    ├── InvalidField            bad input; names the field             → 422 / exit 1
    └── ServiceError
        ├── NotFound            no such account, invoice, request…     → 404
        ├── Forbidden           the actor may not do this              → 403
        ├── ChangeRefused       needs a change request (reasons)       → 409
        ├── StaleQuote          price changed, please review again     → 409
        ├── Busy                another payment for the account runs   → 409
        ├── InvalidTransition   a request cannot move that way         → 409
        ├── AccountRestricted   past due: no purchase until it pays    → 409
        ├── NoFreeSeat          every user seat is taken               → 409
        ├── PaymentFailed       declined, insufficient funds, no card  → 402
        └── PaymentPending      the card network did not answer        → 402

The web and CLI layers map this tree once (web/problems.py, cli.py).
"""

from __future__ import annotations

from canone.billing.errors import BillingError


class ServiceError(BillingError):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    code = "not_found"


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
