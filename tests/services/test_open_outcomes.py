"""A payment still open at the provider (SPEC §9: a SEPA debit processing for days, a bank
asking the customer to authenticate) is neither paid nor failed: reconciliation leaves its
intent pending until the provider has decided, then settles it once."""

from __future__ import annotations

import dataclasses

import pytest

import stored
from canone.services import payments, quotes
from canone.services.errors import PaymentPending
from sandboxnetwork import BankStillDeciding

from .conftest import admin_of, at, config


def test_reconciliation_waits_for_an_open_payment_then_settles_it_once(svc, clock,
                                                                       signed) -> None:
    bank = BankStillDeciding(svc.gateway)
    deciding = dataclasses.replace(svc, gateway=bank)
    ada = admin_of(svc, signed.account.id)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token
    with pytest.raises(PaymentPending):
        quotes.confirm(deciding, ada, signed.account.id, token)
    clock.advance(minutes=5)

    assert payments.reconcile(deciding) == 0  # processing: neither paid nor failed
    assert stored.subscription(svc, signed.account.id).config == config()
    assert [i.kind for i in stored.invoices(svc, signed.account.id)] == ["signup"]

    bank.decide()
    assert payments.reconcile(deciding) == 1
    assert payments.reconcile(deciding) == 0
    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    assert [(i.kind, i.total, i.amount_paid) for i in stored.invoices(svc, signed.account.id)] == [
        ("signup", 4900, 4900), ("upgrade", 4800, 4800)]
    assert svc.gateway.total_charged() == 4900 + 4800

