"""A sign-up for an address whose earlier sign-up is still pending asks the provider about
that one first (SPEC §9's intents, with the customer's bank asking for 3-D Secure): left at
the challenge, it is cancelled and settled as failed, and the new one goes on at once; paid
meanwhile, it is settled (its account holds the address); the provider failing to answer
keeps the address held, with the 422 that says so."""

from __future__ import annotations

import dataclasses

import pytest

import stored
from canone.billing.errors import InvalidField
from canone.services import payments
from canone.services.errors import PaymentActionRequired, PaymentFailed
from canone.services.records import PaymentIntent
from sandboxnetwork import BankChallenging

from .conftest import sign_up


@pytest.fixture
def bank(svc) -> BankChallenging:
    return BankChallenging(svc.gateway)


@pytest.fixture
def challenged(svc, bank) -> str:
    """Ada's sign-up, left at her bank's challenge: the provider's intent id."""
    with pytest.raises(PaymentActionRequired) as asked:
        sign_up(dataclasses.replace(svc, gateway=bank))
    return asked.value.provider_id


def intent_of(svc, bank, provider_id: str) -> PaymentIntent:
    """canone's intent of the provider's `provider_id`."""
    key = bank.real.charge_outcome(provider_id).key
    with svc.database.read() as store:
        found = store.payments.get_intent(key)
    assert found is not None and found.provider_id == provider_id
    return found


def test_a_sign_up_left_at_its_bank_challenge_gives_way_to_a_new_one(svc, bank,
                                                                      challenged) -> None:
    bank.challenging = False  # another card, whose bank does not ask
    signed = sign_up(dataclasses.replace(svc, gateway=bank), email="ADA@example.com")

    assert signed.invoice.amount_paid == 4900
    assert bank.real.charge_outcome(challenged).status == "canceled"
    assert (stored.count_rows(svc, "accounts"), svc.gateway.total_charged()) == (1, 4900)
    given_up = intent_of(svc, bank, challenged)
    assert given_up.status == "failed"
    assert "A new sign-up for this address replaced this one" in str(given_up.result)
    with pytest.raises(PaymentFailed, match="replaced this one"):  # the old tab, too late
        payments.settle(svc, given_up.key, bank.charge_outcome(challenged))


def test_a_challenge_finished_before_the_new_sign_up_is_settled_not_charged_again(
        svc, bank, challenged) -> None:
    bank.finish(challenged)  # in the tab the customer then closed

    with pytest.raises(InvalidField, match="already used by another account"):
        sign_up(dataclasses.replace(svc, gateway=bank))

    assert (stored.count_rows(svc, "accounts"), svc.gateway.total_charged()) == (1, 4900)
    assert intent_of(svc, bank, challenged).status == "succeeded"


def test_a_provider_that_fails_to_answer_keeps_the_address_held(svc, bank,
                                                                challenged) -> None:
    bank.failing = RuntimeError("No such payment_intent")

    with pytest.raises(InvalidField, match="is used by a sign-up whose payment is not"):
        sign_up(dataclasses.replace(svc, gateway=bank))

    assert (stored.count_rows(svc, "accounts"), svc.gateway.total_charged()) == (0, 0)
    bank.failing = None
    assert intent_of(svc, bank, challenged).status == "pending"
