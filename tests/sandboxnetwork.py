"""Wrappers of the sandbox card network that inject faults into its one-step `charge` and
`lookup`: confirming an opened intent and reading its outcome go through them, as the
sandbox's own do, so a fault meant for "the charge" meets the two-step charging too."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from canone.services.ports import PROCESSING, ChargeRequest, ChargeResult, GatewayTimeout


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
