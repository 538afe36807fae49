"""Wrappers of the sandbox card network that inject faults into its one-step `charge` and
`lookup`: confirming an opened intent and reading its outcome go through them, as the
sandbox's own do, so a fault meant for "the charge" meets the two-step charging too."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from canone.services.ports import (
    PROCESSING,
    REQUIRES_ACTION,
    REQUIRES_CONFIRMATION,
    ChargeRequest,
    ChargeResult,
    GatewayTimeout,
)


class ThroughCharge:
    """The sandbox (`real`), with `charge` and `lookup` for a subclass to override."""

    real: Any

    def __getattr__(self, name: str) -> Any:
        if name == "real":  # not set yet
            raise AttributeError(name)
        return getattr(self.real, name)

    def charge(self, card_token: str, amount_minor: int, currency: str,
               idempotency_key: str) -> ChargeResult:
        result: ChargeResult = self.real.charge(card_token, amount_minor, currency,
                                                idempotency_key)
        return result

    def lookup(self, idempotency_key: str) -> ChargeResult | None:
        found: ChargeResult | None = self.real.lookup(idempotency_key)
        return found

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        outcome = self.charge(request.card_token, request.amount_minor, request.currency,
                              request.key)
        return replace(outcome, provider_id=provider_id, key=request.key)

    def charge_outcome(self, provider_id: str) -> ChargeResult:
        opened: ChargeResult = self.real.charge_outcome(provider_id)
        found = self.lookup(str(opened.key))
        return opened if found is None else replace(found, provider_id=provider_id,
                                                    key=opened.key)


class BankStillDeciding(ThroughCharge):
    """The sandbox network, except that the bank has not decided yet: the charge's answer
    is open (as Stripe's `processing`) until `decide()`."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.deciding = True

    def charge(self, card_token: str, amount_minor: int, currency: str,
               idempotency_key: str) -> ChargeResult:
        self.real.charge(card_token, amount_minor, currency, idempotency_key)
        raise GatewayTimeout("processing")

    def lookup(self, idempotency_key: str) -> ChargeResult | None:
        if self.deciding:
            return ChargeResult(PROCESSING, None)
        return self.real.lookup(idempotency_key)

    def decide(self) -> None:
        self.deciding = False


class BankChallenging(ThroughCharge):
    """The sandbox network, except that, while `challenging`, the customer's bank asks for
    3-D Secure on every payment confirmed (as Stripe's `requires_action`): nothing is
    charged until the customer finishes the challenge (`finish`), or ever when the intent
    is canceled first. `failing` makes every question about an intent raise it (a
    provider's error)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.challenging = True
        self.challenged: dict[str, ChargeRequest] = {}
        self.failing: Exception | None = None

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        if not self.challenging:
            found: ChargeResult = self.real.confirm_charge(provider_id, request)
            return found
        self.challenged[provider_id] = request
        return ChargeResult(REQUIRES_ACTION, None, provider_id=provider_id,
                            client_secret=f"{provider_id}_secret", key=request.key)

    def charge_outcome(self, provider_id: str) -> ChargeResult:
        if self.failing is not None:
            raise self.failing
        found: ChargeResult = self.real.charge_outcome(provider_id)
        if found.status == REQUIRES_CONFIRMATION and provider_id in self.challenged:
            return replace(found, status=REQUIRES_ACTION)
        return found

    def finish(self, provider_id: str) -> None:
        """The customer passes the challenge: the payment is taken."""
        self.real.confirm_charge(provider_id, self.challenged.pop(provider_id))
