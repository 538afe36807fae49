"""The sandbox network's charges in two steps (SPEC §9): an intent opened, its id kept by
the caller, confirmed, read back by that id after a lost answer; cancels and refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from canone.integrations.payments import SandboxGateway
from canone.services import ports
from clocks import TestClock


@pytest.fixture
def network(tmp_path: Path) -> SandboxGateway:
    return SandboxGateway(tmp_path / "sandbox.db", TestClock(datetime(2026, 3, 10, 12, tzinfo=UTC)))


def request(network: SandboxGateway, number: str, amount: int = 4800,
            key: str = "col_inv_1_1") -> ports.ChargeRequest:
    card = network.store_card(ports.Card(number, 12, 2030, "123"))
    return ports.ChargeRequest(key, card.token, amount, "EUR", off_session=True)


def test_an_opened_intent_is_charged_when_confirmed(network: SandboxGateway) -> None:
    asked = request(network, "4242424242424242")
    intent = network.open_charge(asked)
    assert network.charge_outcome(intent) == ports.ChargeResult(
        ports.REQUIRES_CONFIRMATION, None, "", intent, key="col_inv_1_1")
    assert network.total_charged() == 0
    outcome = network.confirm_charge(intent, asked)
    assert (outcome.status, outcome.provider_id) == (ports.SUCCEEDED, intent)
    assert outcome.charge_id is not None and network.total_charged() == 4800


def test_the_same_key_opens_the_same_intent_and_confirming_twice_charges_once(
        network: SandboxGateway) -> None:
    asked = request(network, "4242424242424242")
    intent = network.open_charge(asked)
    assert network.open_charge(asked) == intent
    first = network.confirm_charge(intent, asked)
    assert network.confirm_charge(intent, asked) == first
    assert network.total_charged() == 4800


def test_a_lost_answer_is_read_back_by_the_intent_id(network: SandboxGateway) -> None:
    asked = request(network, "4000000000000119")
    intent = network.open_charge(asked)
    with pytest.raises(ports.GatewayTimeout):
        network.confirm_charge(intent, asked)
    outcome = network.charge_outcome(intent)
    assert (outcome.status, outcome.provider_id) == (ports.SUCCEEDED, intent)
    assert network.total_charged() == 4800


def test_a_declined_card_is_declined_through_the_intent(network: SandboxGateway) -> None:
    asked = request(network, "4000000000000002")
    outcome = network.confirm_charge(network.open_charge(asked), asked)
    assert (outcome.status, outcome.message) == (ports.DECLINED, "Your card was declined.")


def test_a_canceled_intent_is_never_charged(network: SandboxGateway) -> None:
    asked = request(network, "4242424242424242")
    intent = network.open_charge(asked)
    assert network.cancel_charge(intent).status == ports.CANCELED
    assert network.confirm_charge(intent, asked).status == ports.CANCELED
    assert network.total_charged() == 0


def test_below_a_cent_nothing_is_opened(network: SandboxGateway) -> None:
    with pytest.raises(ports.BelowMinimumCharge):
        network.open_charge(request(network, "4242424242424242", amount=0))


def test_refunds_partial_then_the_rest_and_never_more_than_was_paid(
        network: SandboxGateway) -> None:
    asked = request(network, "4242424242424242")
    intent = network.open_charge(asked)
    network.confirm_charge(intent, asked)
    partial = network.refund(intent, 1800, "ref_1")
    assert (partial.status, partial.amount_minor) == ("succeeded", 1800)
    assert network.refund(intent, 1800, "ref_1") == partial  # the same key: once
    assert network.refund_outcome(partial.refund_id) == partial
    with pytest.raises(ports.RefundRefused, match="between 1 and 3000"):
        network.refund(intent, 3001, "ref_2")
    assert network.refund(intent, 3000, "ref_3").amount_minor == 3000
    with pytest.raises(ports.RefundRefused, match="between 1 and 0"):
        network.refund(intent, 1, "ref_4")


def test_a_declined_payment_cannot_be_refunded(network: SandboxGateway) -> None:
    asked = request(network, "4000000000000002")
    intent = network.open_charge(asked)
    network.confirm_charge(intent, asked)
    with pytest.raises(ports.RefundRefused, match="succeeded"):
        network.refund(intent, 4800, "ref_1")


def test_confirming_reads_the_intent_and_charges_in_one_transaction(
        network: SandboxGateway) -> None:
    """So a cancel can never come between the intent found open and its charge, and a
    charge costs the network one commit."""
    asked = request(network, "4242424242424242")
    intent = network.open_charge(asked)
    sent: list[str] = []
    network._connection().set_trace_callback(sent.append)
    assert network.confirm_charge(intent, asked).status == ports.SUCCEEDED
    network._connection().set_trace_callback(None)
    assert [s for s in sent if s in ("BEGIN IMMEDIATE", "COMMIT")] == [
        "BEGIN IMMEDIATE", "COMMIT"]
    assert network.total_charged() == 4800
