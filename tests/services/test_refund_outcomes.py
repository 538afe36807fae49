"""A refund the provider accepts as pending and decides later (SPEC §9: the invoice is
`refunded` only once the refund has succeeded; `refund.failed` is shown to staff), through
the handler of Stripe's `refund.updated` / `refund.failed` events, which re-reads the refund.
localstripe's refunds always succeed at once and the sandbox sends no events, so the
provider here is the sandbox with a scripted refund outcome (what Stripe says of a card
refund pending then failed: tests/integrations/stripe_recordings/refund_pending_then_failed.json,
whose gateway side test_stripe_recorded.py shows)."""

from __future__ import annotations

import dataclasses
from typing import Any

import stored
from canone.services import refunds
from canone.services.context import Services
from canone.services.ports import (
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    Dispute,
    PaymentEvent,
    RefundResult,
    SavedMethod,
)
from canone.services.provider_events import RECORDED, apply_payment_event

from .conftest import SUPPORT, sign_up

REFUND_ID = "re_3QmT6bLkdIwHu7ix0pnd0001"


class ScriptedRefunds:
    """The sandbox gateway, whose refunds the provider accepts as pending; reading a refund
    back answers `outcome` (what the provider has decided since)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.outcome = REFUND_PENDING
        self.refunded: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def refund(self, provider_id: str, amount_minor: int, key: str) -> RefundResult:
        self.refunded.append((provider_id, amount_minor))
        return RefundResult(REFUND_ID, REFUND_PENDING, amount_minor, "", provider_id)

    def refund_outcome(self, refund_id: str) -> RefundResult:
        assert refund_id == REFUND_ID
        message = "The refund failed: expired_or_canceled_card." if (
            self.outcome == REFUND_FAILED) else ""
        provider_id, amount = self.refunded[-1]
        return RefundResult(refund_id, self.outcome, amount, message, provider_id)

    # What makes it a provider whose events canone reads back (ports.ProviderObjects).
    def refunds_of_charge(self, charge_id: str) -> list[RefundResult]:
        return [self.refund_outcome(REFUND_ID)]

    def dispute(self, dispute_id: str) -> Dispute:
        raise AssertionError("no dispute here")

    def setup_method(self, setup_id: str) -> SavedMethod | None:
        raise AssertionError("no set-up here")

    def saved_method(self, payment_method: str) -> SavedMethod:
        raise AssertionError("no payment method here")


def refund_event(kind: str, event_id: str) -> PaymentEvent:
    return PaymentEvent(event_id, kind, REFUND_ID, "refund", 1796400500, None)


def refunded_pending(svc: Services) -> tuple[Services, ScriptedRefunds, str, str]:
    """Ada's sign-up invoice (49.00) refunded in full by support, the refund pending."""
    signed = sign_up(svc)
    provider = ScriptedRefunds(svc.gateway)
    scripted = dataclasses.replace(svc, gateway=provider)
    refund, invoice = refunds.refund_invoice(scripted, SUPPORT, signed.invoice.id)
    assert (refund.status, refund.amount) == (REFUND_PENDING, 4900)
    assert invoice.status == "paid"  # not refunded while the refund is pending
    return scripted, provider, signed.account.id, signed.invoice.id


def rows(svc: Services, account_id: str) -> list[tuple[int, str]]:
    return sorted((p.amount, p.status) for p in stored.payments(svc, account_id))


def test_a_pending_refund_that_fails_gives_the_money_back_to_the_invoice_once(
        svc: Services) -> None:
    scripted, provider, account_id, invoice_id = refunded_pending(svc)
    provider.outcome = REFUND_FAILED
    results = [apply_payment_event(scripted, refund_event(kind, event_id))
               for kind, event_id in (("refund.failed", "evt_failed"),
                                      ("refund.updated", "evt_updated"),
                                      ("refund.failed", "evt_failed"))]

    assert results == [RECORDED] * 3
    assert rows(scripted, account_id) == [(-4900, "refund_pending"), (4900, "refund_failed"),
                                          (4900, "succeeded")]
    (invoice,) = stored.invoices(scripted, account_id)
    assert (invoice.id, invoice.status) == (invoice_id, "paid")
    with scripted.database.read() as store:
        assert store.documents.credit_notes_of_invoice(invoice_id) == []
        shown = store.audit.of_account(account_id, 10, action="invoice.refund_failed")
        can = refunds.refundable(store, invoice)
    assert len(shown) == 1 and shown[0].after is not None  # the console's audit trail
    assert (shown[0].after["refund"], shown[0].after["amount"]) == (REFUND_ID, 4900)
    assert (can.paid, can.refunded, can.left) == (4900, 0, 4900)  # refundable again


def test_a_pending_refund_that_succeeds_refunds_the_invoice_with_one_credit_note(
        svc: Services) -> None:
    scripted, provider, account_id, invoice_id = refunded_pending(svc)
    provider.outcome = REFUND_SUCCEEDED
    results = [apply_payment_event(scripted, refund_event(kind, event_id))
               for kind, event_id in (("refund.updated", "evt_updated"),
                                      ("charge.refunded", "evt_charge"),
                                      ("refund.updated", "evt_updated_again"))]

    assert results == [RECORDED] * 3
    assert rows(scripted, account_id) == [(-4900, "refund_pending"), (0, "refunded"),
                                          (4900, "succeeded")]
    (invoice,) = stored.invoices(scripted, account_id)
    assert invoice.status == "refunded"
    with scripted.database.read() as store:
        notes = store.documents.credit_notes_of_invoice(invoice_id)
    assert [(n.total, n.source_id) for n in notes] == [(4900, REFUND_ID)]
