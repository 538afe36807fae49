"""A real card network answers a call in 100-500 ms, so a batch's charges go out several at
once (`Services.charges_in_flight`, bounded), each on its own idempotency key, and each
outcome is settled on its own invoice as if they had gone one after another."""

from __future__ import annotations

import dataclasses
import threading
import time

import stored
from canone.bootstrap import STRIPE_CHARGES_IN_FLIGHT, build_services
from canone.services import accounts, renewal
from canone.services.ports import ChargeRequest, ChargeResult
from canone.settings import Settings
from sandboxnetwork import ThroughCharge

from .conftest import DECLINED_CARD, admin_of, at, sign_up


class Slow(ThroughCharge):
    """The sandbox, each confirmation taking a while; counts how many are in flight."""

    def __init__(self, real) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.keys: list[str] = []

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.keys.append(request.key)
        try:
            time.sleep(0.05)
            return super().confirm_charge(provider_id, request)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_a_batch_charges_several_cards_at_once_each_once(svc, clock) -> None:
    signed = [sign_up(svc, email=f"p{n}@example.com") for n in range(7)]
    declined = {s.account.id for n, s in enumerate(signed) if n % 3 == 0}
    for account_id in declined:
        accounts.update_card(svc, admin_of(svc, account_id), account_id, DECLINED_CARD)
    charged_before = svc.gateway.total_charged()
    clock.set(at(2026, 5, 1))
    slow = Slow(svc.gateway)

    report = renewal.run(dataclasses.replace(svc, gateway=slow, charges_in_flight=3))

    assert (report.renewed, report.collected, report.failed, report.pending) == (7, 4, 3, 0)
    assert slow.most == 3  # as many as allowed, never more
    assert len(slow.keys) == len(set(slow.keys)) == 7
    for s in signed:
        renewed = stored.invoices(svc, s.account.id)[-1]
        if s.account.id in declined:
            assert (renewed.status, renewed.amount_paid, renewed.attempts,
                    renewed.next_attempt_at) == ("open", 0, 1, at(2026, 5, 3))
        else:
            assert (renewed.status, renewed.amount_paid, renewed.attempts) == ("paid", 4900, 0)
    assert svc.gateway.total_charged() == charged_before + 4 * 4900


def test_stripe_is_called_several_at_once_the_sandbox_one_at_a_time(svc) -> None:
    """The sandbox's file takes one call at a time (a lock): threads would only wait."""
    stripe = build_services(Settings(secret_key="s", payments="stripe"), svc.database,
                            clock=svc.clock, gateway=svc.gateway, vies=None, seller=None)
    assert (svc.charges_in_flight, stripe.charges_in_flight) == (1, STRIPE_CHARGES_IN_FLIGHT)
    assert STRIPE_CHARGES_IN_FLIGHT > 1
