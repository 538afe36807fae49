"""Cancellation: primary admin only, at period end, undone before then (SPEC §5)."""

from __future__ import annotations

import pytest

import stored
from canone.services import quotes, renewal, subscriptions, usage
from canone.services.errors import InvalidTransition

from .conftest import admin_of, at, config


def test_cancel_at_period_end_then_resume_keeps_renewing(svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)

    cancelled = subscriptions.set_cancellation(svc, ada, signed.account.id, True, "too pricey")
    assert cancelled.cancel_at_period_end and cancelled.status == "active"
    with pytest.raises(InvalidTransition):
        subscriptions.set_cancellation(svc, ada, signed.account.id, True)
    resumed = subscriptions.set_cancellation(svc, ada, signed.account.id, False)
    assert not resumed.cancel_at_period_end
    with pytest.raises(InvalidTransition):
        subscriptions.set_cancellation(svc, ada, signed.account.id, False)

    clock.set(at(2026, 5, 1))
    report = renewal.run(svc)

    assert (report.renewed, report.cancelled, report.collected) == (1, 0, 1)
    assert [i.total for i in stored.invoices(svc, signed.account.id)] == [4900, 4900]
    assert svc.gateway.total_charged() == 9800


def test_a_cancelled_subscription_ends_at_period_end_without_an_invoice(svc, clock,
                                                                        signed) -> None:
    ada = admin_of(svc, signed.account.id)
    subscriptions.set_cancellation(svc, ada, signed.account.id, True)

    clock.set(at(2026, 4, 30, 23, 59))
    assert renewal.run(svc).renewed == 0
    assert stored.subscription(svc, signed.account.id).status == "active"
    clock.set(at(2026, 5, 1))
    report = renewal.run(svc)

    assert (report.renewed, report.cancelled) == (0, 1)
    assert stored.subscription(svc, signed.account.id).status == "cancelled"
    assert [i.number for i in stored.invoices(svc, signed.account.id)] == ["2026-000001"]
    assert usage.entitlements(svc, ada, signed.account.id).features == ()
    clock.set(at(2026, 6, 1))
    assert renewal.run(svc).renewed == 0
    assert svc.gateway.total_charged() == 4900
    with pytest.raises(InvalidTransition):
        quotes.preview(svc, ada, signed.account.id, config(tier="pro"))
    with pytest.raises(InvalidTransition):
        subscriptions.set_cancellation(svc, ada, signed.account.id, False)
