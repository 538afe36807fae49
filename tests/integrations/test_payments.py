"""The sandbox card network: validation, test card outcomes, idempotency, shared state."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from canone.integrations.payments import ChargeRecord, SandboxGateway
from canone.services.ports import (
    DECLINED,
    INSUFFICIENT_FUNDS,
    SUCCEEDED,
    Card,
    CardRejected,
    ChargeResult,
    GatewayTimeout,
    StoredCard,
)
from clocks import TestClock

SUCCEEDS = "4242424242424242"
DECLINES = "4000000000000002"
NO_FUNDS = "4000000000009995"
TIMES_OUT = "4000000000000119"


@pytest.fixture
def clock() -> TestClock:
    return TestClock(datetime(2026, 5, 20, 10, 0, tzinfo=UTC))


@pytest.fixture
def gateway(tmp_path: Path, clock: TestClock) -> SandboxGateway:
    return SandboxGateway(tmp_path / "sandbox.db", clock)


def card(number: str = SUCCEEDS, exp_month: int = 12, exp_year: int = 2030, cvc: str = "123"):
    return Card(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)


# -- storing cards ------------------------------------------------------------------------


def test_store_card_keeps_brand_last4_and_expiry_behind_a_token(gateway: SandboxGateway):
    stored = gateway.store_card(card(SUCCEEDS, 12, 2030))

    assert stored == StoredCard(stored.token, "visa", "4242", 12, 2030)
    assert stored.token.startswith("card_")
    assert len(stored.token) == len("card_") + 24


def test_each_stored_card_gets_its_own_token(gateway: SandboxGateway):
    assert gateway.store_card(card()).token != gateway.store_card(card()).token


@pytest.mark.parametrize(
    ("number", "brand", "last4"),
    [
        ("4242424242424242", "visa", "4242"),
        ("4000056655665556", "visa", "5556"),
        ("5555555555554444", "mastercard", "4444"),
        ("5105105105105100", "mastercard", "5100"),
        ("2223003122003222", "mastercard", "3222"),
        ("2720990000000007", "mastercard", "0007"),
        ("378282246310005", "amex", "0005"),
        ("341111111111111", "amex", "1111"),
        ("6011111111111117", "unknown", "1117"),
        ("4242 4242 4242 4242", "visa", "4242"),
        ("4242-4242-4242-4242", "visa", "4242"),
    ],
)
def test_brand_comes_from_the_number_prefix(
    gateway: SandboxGateway, number: str, brand: str, last4: str
):
    stored = gateway.store_card(card(number))

    assert (stored.brand, stored.last4) == (brand, last4)


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (card(number="4242x42424242424"), "number", "The card number may contain only digits."),
        (card(number=""), "number", "The card number may contain only digits."),
        (card(number="٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"), "number", "The card number may contain only digits."),
        (card(number="424242424242"), "number", "The card number must have 13 to 19 digits."),
        (
            card(number="42424242424242424242"),
            "number",
            "The card number must have 13 to 19 digits.",
        ),
        (card(number="4242424242424241"), "number", "The card number is not valid."),
        (card(exp_month=0), "exp_month", "The expiry month must be between 1 and 12."),
        (card(exp_month=13), "exp_month", "The expiry month must be between 1 and 12."),
        (card(exp_year=2025), "exp_year", "The card has expired."),
        (card(exp_month=4, exp_year=2026), "exp_month", "The card has expired."),
        (card(exp_year=2047), "exp_year", "The expiry year is not valid."),
        (card(cvc="12"), "cvc", "The security code must have 3 or 4 digits."),
        (card(cvc="12345"), "cvc", "The security code must have 3 or 4 digits."),
        (card(cvc="12a"), "cvc", "The security code must have 3 or 4 digits."),
        (card(cvc=""), "cvc", "The security code must have 3 or 4 digits."),
    ],
)
def test_invalid_cards_are_rejected_naming_the_field(
    gateway: SandboxGateway, bad: Card, field: str, message: str
):
    with pytest.raises(CardRejected) as rejected:
        gateway.store_card(bad)

    assert (rejected.value.field, rejected.value.message) == (field, message)
    assert str(rejected.value) == message


def test_a_card_expiring_this_month_or_in_twenty_years_is_accepted(gateway: SandboxGateway):
    assert gateway.store_card(card(exp_month=5, exp_year=2026)).exp_month == 5
    assert gateway.store_card(card(exp_month=1, exp_year=2046)).exp_year == 2046
    assert gateway.store_card(card(cvc="1234")).brand == "visa"


# -- charging -----------------------------------------------------------------------------


def test_the_success_card_is_charged(gateway: SandboxGateway):
    token = gateway.store_card(card(SUCCEEDS)).token

    result = gateway.charge(token, 4800, "EUR", "quote-1")

    assert result.status == SUCCEEDED
    assert result.succeeded
    assert result.charge_id is not None and result.charge_id.startswith("ch_")
    assert result.message == ""
    assert gateway.total_charged() == 4800
    assert gateway.charges_for(token) == [
        ChargeRecord("quote-1", token, 4800, "EUR", SUCCEEDED, result.charge_id, "")
    ]


def test_any_other_valid_number_succeeds(gateway: SandboxGateway):
    token = gateway.store_card(card("5555555555554444")).token

    assert gateway.charge(token, 1500, "USD", "k").status == SUCCEEDED


@pytest.mark.parametrize(
    ("number", "status", "message"),
    [
        (DECLINES, DECLINED, "Your card was declined."),
        (NO_FUNDS, INSUFFICIENT_FUNDS, "Your card has insufficient funds."),
    ],
)
def test_failing_cards_take_no_money(
    gateway: SandboxGateway, number: str, status: str, message: str
):
    token = gateway.store_card(card(number)).token

    result = gateway.charge(token, 4800, "EUR", "quote-1")

    assert result == ChargeResult(status, None, message)
    assert not result.succeeded
    assert gateway.total_charged() == 0
    assert gateway.lookup("quote-1") == result


def test_the_timeout_card_takes_the_money_then_loses_the_answer(gateway: SandboxGateway):
    token = gateway.store_card(card(TIMES_OUT)).token

    with pytest.raises(GatewayTimeout):
        gateway.charge(token, 14500, "USD", "renewal-7")

    settled = gateway.lookup("renewal-7")
    assert settled is not None
    assert settled.status == SUCCEEDED
    assert gateway.total_charged(token) == 14500


def test_retrying_a_timed_out_charge_returns_the_first_outcome_without_a_second_charge(
    gateway: SandboxGateway,
):
    token = gateway.store_card(card(TIMES_OUT)).token
    with pytest.raises(GatewayTimeout):
        gateway.charge(token, 14500, "USD", "renewal-7")

    retried = gateway.charge(token, 14500, "USD", "renewal-7")

    assert retried == gateway.lookup("renewal-7")
    assert retried.status == SUCCEEDED
    assert gateway.total_charged() == 14500
    assert len(gateway.charges_for(token)) == 1


def test_the_same_idempotency_key_never_charges_twice(gateway: SandboxGateway):
    token = gateway.store_card(card()).token

    first = gateway.charge(token, 4800, "eur", "quote-1")
    second = gateway.charge(token, 4800, "EUR", "quote-1")

    assert second == first
    assert gateway.total_charged() == 4800


def test_a_declined_outcome_is_replayed_for_the_same_key(gateway: SandboxGateway):
    token = gateway.store_card(card(DECLINES)).token
    first = gateway.charge(token, 4800, "EUR", "quote-1")

    assert gateway.charge(token, 4800, "EUR", "quote-1") == first
    assert len(gateway.charges_for(token)) == 1


def test_reusing_a_key_for_a_different_charge_is_an_error(gateway: SandboxGateway):
    token = gateway.store_card(card()).token
    other = gateway.store_card(card()).token
    gateway.charge(token, 4800, "EUR", "quote-1")

    with pytest.raises(ValueError, match="'quote-1' was used for a different charge"):
        gateway.charge(token, 4801, "EUR", "quote-1")
    with pytest.raises(ValueError, match="different charge"):
        gateway.charge(token, 4800, "USD", "quote-1")
    with pytest.raises(ValueError, match="different charge"):
        gateway.charge(other, 4800, "EUR", "quote-1")
    assert gateway.total_charged() == 4800


@pytest.mark.parametrize("amount", [0, -100])
def test_amount_must_be_positive(gateway: SandboxGateway, amount: int):
    token = gateway.store_card(card()).token

    with pytest.raises(ValueError, match=f"amount_minor must be positive, not {amount}"):
        gateway.charge(token, amount, "EUR", "k")
    assert gateway.lookup("k") is None


def test_an_unknown_token_is_declined(gateway: SandboxGateway):
    result = gateway.charge("card_nope", 4800, "EUR", "k")

    assert result == ChargeResult(DECLINED, None, "Unknown card card_nope.")


def test_a_card_expired_since_it_was_stored_is_declined(gateway: SandboxGateway, clock: TestClock):
    token = gateway.store_card(card(exp_month=6, exp_year=2026)).token
    assert gateway.charge(token, 100, "EUR", "june").succeeded

    clock.set(datetime(2026, 7, 1, 0, 0, tzinfo=UTC))

    assert gateway.charge(token, 100, "EUR", "july") == ChargeResult(
        DECLINED, None, "Your card has expired."
    )


def test_lookup_of_a_key_that_never_reached_the_network_is_none(gateway: SandboxGateway):
    assert gateway.lookup("never-sent") is None


def test_charges_for_lists_every_attempt_in_order(gateway: SandboxGateway):
    good = gateway.store_card(card(SUCCEEDS)).token
    bad = gateway.store_card(card(DECLINES)).token
    gateway.charge(bad, 100, "EUR", "a")
    gateway.charge(good, 200, "EUR", "b")
    gateway.charge(bad, 300, "EUR", "c")

    assert [(r.idempotency_key, r.amount_minor, r.status) for r in gateway.charges_for(bad)] == [
        ("a", 100, DECLINED),
        ("c", 300, DECLINED),
    ]
    assert gateway.total_charged() == 200
    assert gateway.total_charged(bad) == 0


# -- one network for every process --------------------------------------------------------


def test_state_is_shared_by_every_gateway_on_the_same_file(tmp_path: Path, clock: TestClock):
    first = SandboxGateway(tmp_path / "sandbox.db", clock)
    token = first.store_card(card()).token
    charged = first.charge(token, 4800, "EUR", "quote-1")

    second = SandboxGateway(tmp_path / "sandbox.db", clock)

    assert second.lookup("quote-1") == charged
    assert second.charge(token, 4800, "EUR", "quote-1") == charged
    assert second.total_charged() == 4800


@pytest.mark.parametrize("path", [":memory:", ""])
def test_the_network_needs_a_file(path: str):
    with pytest.raises(ValueError, match="the sandbox network needs a file"):
        SandboxGateway(path)


def test_twenty_threads_with_the_same_key_charge_once(tmp_path: Path, clock: TestClock):
    path = tmp_path / "sandbox.db"
    token = SandboxGateway(path, clock).store_card(card()).token
    start = threading.Barrier(20)

    def confirm(_: int) -> ChargeResult:
        gateway = SandboxGateway(path, clock)  # its own connection and lock, like a process
        start.wait()
        return gateway.charge(token, 4800, "EUR", "quote-1")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(confirm, range(20)))

    assert len({r.charge_id for r in results}) == 1
    assert SandboxGateway(path, clock).total_charged() == 4800


def test_threads_sharing_one_gateway_charge_each_key_once(gateway: SandboxGateway):
    token = gateway.store_card(card()).token

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: gateway.charge(token, 100, "EUR", f"k{i % 5}"), range(40)))

    assert gateway.total_charged() == 500
    assert len(gateway.charges_for(token)) == 5


def _charge_in_a_process(path: str, token: str, key: str) -> str | None:
    return SandboxGateway(path).charge(token, 4800, "EUR", key).charge_id


def test_processes_charging_with_the_same_key_charge_once(tmp_path: Path):
    path = str(tmp_path / "sandbox.db")
    token = SandboxGateway(path).store_card(card(exp_year=2040)).token

    with ProcessPoolExecutor(4) as pool:
        ids = list(pool.map(_charge_in_a_process, [path] * 8, [token] * 8, ["quote-1"] * 8))

    assert len(set(ids)) == 1
    assert SandboxGateway(path).total_charged() == 4800


def _charge_in_a_forked_child(gateway: SandboxGateway, token: str, key: str,
                              answers: multiprocessing.queues.Queue) -> None:
    answers.put(gateway.charge(token, 4800, "EUR", key).charge_id)


def test_a_forked_process_charges_on_a_connection_of_its_own(gateway: SandboxGateway):
    """The parent's connection (kept per thread) is never used by a child it forks."""
    token = gateway.store_card(card()).token
    first = gateway.charge(token, 4800, "EUR", "quote-1").charge_id  # the parent's connection
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    children = [context.Process(target=_charge_in_a_forked_child,
                                args=(gateway, token, key, answers))
                for key in ("quote-1", "quote-2", "quote-2")]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
        assert child.exitcode == 0

    ids = sorted(answers.get(timeout=5) for _ in children)
    assert first in ids and ids.count(first) == 1
    assert len(set(ids)) == 2  # quote-2 charged once for both children
    assert gateway.charge(token, 4800, "EUR", "quote-3").succeeded  # the parent's, still fine
    assert gateway.total_charged() == 3 * 4800


def test_a_closed_connection_is_opened_again_on_the_next_call(gateway: SandboxGateway):
    token = gateway.store_card(card()).token
    gateway.close()

    assert gateway.charge(token, 100, "EUR", "k").succeeded
    gateway.close()
    gateway.close()
    assert gateway.total_charged() == 100
