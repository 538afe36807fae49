"""The Stripe gateway against localstripe (SPEC §9): cards and SEPA accounts saved without
numbers reaching canone, charges as PaymentIntents, 3-D Secure, crash recovery by the stored
PaymentIntent id, refunds. What localstripe cannot do is in test_stripe_recorded.py."""

from __future__ import annotations

import time

import pytest

from canone.integrations.payments.stripe import StripeGateway
from canone.services import ports
from stripefixtures import TEST_KEY, LocalStripe

VISA = "4242424242424242"
REFUSED_WHEN_SAVED = "4000000000000002"
DECLINED_WHEN_CHARGED = "4000000000000341"
THREE_D_SECURE = "4000002760003184"
IBAN_SUCCEEDS = "DE89370400440532013000"
IBAN_FAILS = "DE62370400440532013001"


@pytest.fixture
def gateway(stripe_base: str) -> StripeGateway:
    return StripeGateway(TEST_KEY, api_base=stripe_base, network_retries=0)


@pytest.fixture
def customer(gateway: StripeGateway) -> str:
    return gateway.create_customer("acc_northwind", "Northwind")


def card_method(gateway: StripeGateway, number: str) -> str:
    """A payment method as Stripe.js makes it from what the customer typed into Elements."""
    method = gateway.client.v1.payment_methods.create({"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})  # type: ignore[typeddict-unknown-key]
    return str(method.id)


def sepa_method(gateway: StripeGateway, iban: str) -> str:
    method = gateway.client.v1.payment_methods.create({
        "type": "sepa_debit", "sepa_debit": {"iban": iban},
        "billing_details": {"name": "Officina Verde", "email": "owner@officinaverde.example"}})
    return str(method.id)


def saved(gateway: StripeGateway, customer: str, method: str) -> ports.StoredCard:
    return gateway.save_payment_method(customer, method)


def request(token: str, amount: int = 4800, key: str = "col_inv_1_1",
            off_session: bool = False) -> ports.ChargeRequest:
    return ports.ChargeRequest(key, token, amount, "EUR", off_session)


def charged(gateway: StripeGateway, token: str, amount: int = 4800) -> ports.ChargeResult:
    asked = request(token, amount)
    return gateway.confirm_charge(gateway.open_charge(asked), asked)


def settled(gateway: StripeGateway, provider_id: str) -> ports.ChargeResult:
    """The outcome once it is no longer processing (a SEPA debit, here about half a
    second)."""
    deadline = time.monotonic() + 10
    outcome = gateway.charge_outcome(provider_id)
    while outcome.status == ports.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.1)
        outcome = gateway.charge_outcome(provider_id)
    return outcome


# -- saving payment methods ---------------------------------------------------------------


def test_a_card_confirmed_on_a_setup_intent_is_saved_as_brand_last4_expiry_and_country(
        gateway: StripeGateway, customer: str, localstripe: LocalStripe) -> None:
    setup = gateway.start_setup(customer, ("card",))
    assert setup.client_secret.startswith(setup.setup_id + "_secret_")
    # What Stripe.js's confirmCardSetup sends from the customer's browser:
    confirmed = localstripe.http.post(f"/v1/setup_intents/{setup.setup_id}/confirm", data={
        "client_secret": setup.client_secret, "payment_method_data[type]": "card",
        "payment_method_data[card][number]": VISA, "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": "2030", "payment_method_data[card][cvc]": "123",
    }).json()
    assert confirmed["status"] == "succeeded"
    method = confirmed["payment_method"]
    assert saved(gateway, customer, method) == ports.StoredCard(method, "visa", "4242", 12, 2030,
                                                                "FR", "card")
    assert gateway.client.v1.payment_methods.retrieve(method).customer == customer


def test_stripes_test_payment_method_is_attached_to_the_customer(
        gateway: StripeGateway, customer: str) -> None:
    stored = saved(gateway, customer, "pm_card_visa")
    assert (stored.brand, stored.last4, stored.exp_month, stored.exp_year) == (
        "visa", "4242", 12, 2030)
    assert gateway.client.v1.payment_methods.retrieve(stored.token).customer == customer


def test_a_card_refused_when_saved_is_rejected_with_stripes_message(
        gateway: StripeGateway, customer: str) -> None:
    with pytest.raises(ports.CardRejected) as refused:
        saved(gateway, customer, card_method(gateway, REFUSED_WHEN_SAVED))
    assert (refused.value.field, refused.value.message) == (
        "payment_method", "Your card was declined.")


def test_an_unknown_payment_method_is_rejected(gateway: StripeGateway, customer: str) -> None:
    with pytest.raises(ports.CardRejected) as refused:
        saved(gateway, customer, "pm_nosuchmethod")
    assert (refused.value.field, refused.value.message) == ("payment_method", "Not Found")


def test_another_customers_payment_method_is_rejected(gateway: StripeGateway,
                                                      customer: str) -> None:
    other = gateway.create_customer("acc_other", "Other")
    method = saved(gateway, other, card_method(gateway, VISA)).token
    with pytest.raises(ports.CardRejected, match="belongs to another customer"):
        saved(gateway, customer, method)


def test_a_card_number_never_reaches_the_stripe_gateway(gateway: StripeGateway) -> None:
    with pytest.raises(ports.CardRejected) as refused:
        gateway.store_card(ports.Card(VISA, 12, 2030, "123"))
    assert refused.value.field == "number"
    assert "stripe_payment_method" in refused.value.message


def test_a_sepa_account_is_saved_with_its_last_four_digits_and_country(
        gateway: StripeGateway, customer: str) -> None:
    method = sepa_method(gateway, IBAN_SUCCEEDS)
    assert saved(gateway, customer, method) == ports.StoredCard(method, "sepa_debit", "3000", 0, 0,
                                                                "DE", "sepa_debit")


def test_setups_name_their_payment_method_kinds(gateway: StripeGateway, customer: str) -> None:
    setup = gateway.start_setup(customer, ("card", "sepa_debit"))
    intent = gateway.client.v1.setup_intents.retrieve(setup.setup_id)
    assert (intent.usage, intent.payment_method_types, intent.customer) == (
        "off_session", ["card", "sepa_debit"], customer)
    with pytest.raises(ValueError, match="ideal"):
        gateway.start_setup(customer, ("ideal",))


# -- charges ------------------------------------------------------------------------------


def test_a_charge_opens_a_payment_intent_in_minor_units_then_confirms_it(
        gateway: StripeGateway, customer: str, localstripe: LocalStripe) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    asked = request(token, 4850, key="chg_abc")
    intent = gateway.open_charge(asked)
    (opened,) = localstripe.payment_intents()
    assert (opened["id"], opened["amount"], opened["currency"], opened["customer"],
            opened["payment_method"], opened["metadata"], opened["status"]) == (
        intent, 4850, "eur", customer, token, {"canone_intent": "chg_abc"},
        "requires_confirmation")
    outcome = gateway.confirm_charge(intent, asked)
    assert (outcome.status, outcome.provider_id, outcome.message, outcome.key) == (
        ports.SUCCEEDED, intent, "", "chg_abc")
    assert outcome.charge_id is not None and outcome.charge_id.startswith("ch_")
    assert gateway.charge_outcome(intent) == outcome


def test_an_off_session_charge_succeeds_on_a_saved_card(gateway: StripeGateway,
                                                        customer: str) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    asked = request(token, off_session=True)
    assert gateway.confirm_charge(gateway.open_charge(asked), asked).status == ports.SUCCEEDED


def test_a_saved_card_whose_charges_are_declined_is_declined_with_stripes_message(
        gateway: StripeGateway, customer: str) -> None:
    token = saved(gateway, customer, card_method(gateway, DECLINED_WHEN_CHARGED)).token
    outcome = charged(gateway, token)
    assert (outcome.status, outcome.charge_id, outcome.message) == (
        ports.DECLINED, None, "Your card was declined.")


def test_below_stripes_minimum_nothing_is_opened(gateway: StripeGateway, customer: str,
                                                 localstripe: LocalStripe) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    with pytest.raises(ports.BelowMinimumCharge) as below:
        gateway.open_charge(request(token, 49))
    assert (below.value.amount_minor, below.value.minimum_minor, below.value.currency) == (
        49, 50, "EUR")
    assert localstripe.payment_intents() == []
    assert charged(gateway, token, 50).status == ports.SUCCEEDED  # 0.50 itself is charged


# -- 3-D Secure ---------------------------------------------------------------------------


def test_three_d_secure_asks_for_action_then_succeeds_once_authenticated(
        gateway: StripeGateway, customer: str, localstripe: LocalStripe) -> None:
    token = saved(gateway, customer, card_method(gateway, THREE_D_SECURE)).token
    outcome = charged(gateway, token)
    assert outcome.status == ports.REQUIRES_ACTION and outcome.provider_id is not None
    assert outcome.client_secret is not None
    assert outcome.client_secret.startswith(outcome.provider_id + "_secret_")
    # The customer passes the challenge in Stripe.js; the bank tells Stripe.
    localstripe.authenticate(outcome.provider_id, outcome.client_secret, success=True)
    after = gateway.charge_outcome(outcome.provider_id)
    assert (after.status, after.provider_id) == (ports.SUCCEEDED, outcome.provider_id)


def test_a_failed_three_d_secure_challenge_is_its_own_outcome_not_a_decline(
        gateway: StripeGateway, customer: str, localstripe: LocalStripe) -> None:
    """Stripe's last_payment_error code payment_intent_authentication_failure: the bank's
    challenge failed, nothing was charged; canone's words say so."""
    token = saved(gateway, customer, card_method(gateway, THREE_D_SECURE)).token
    outcome = charged(gateway, token)
    assert outcome.provider_id is not None and outcome.client_secret is not None
    localstripe.authenticate(outcome.provider_id, outcome.client_secret, success=False)
    after = gateway.charge_outcome(outcome.provider_id)
    assert (after.status, after.charge_id, after.message) == (
        ports.AUTHENTICATION_FAILED, None, "The bank could not authenticate this payment; nothing"
        " was charged. Try again or use another card.")
    assert after.final and not after.succeeded


# -- crash recovery -----------------------------------------------------------------------


def test_a_crash_after_confirming_is_recovered_by_the_stored_id_with_one_payment_intent(
        gateway: StripeGateway, customer: str, localstripe: LocalStripe) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    asked = request(token)
    stored_id = gateway.open_charge(asked)  # canone commits this id before confirming
    gateway.client.v1.payment_intents.confirm(stored_id)  # ... and crashes before the answer
    # After the restart: the outcome is read back by the stored id, and confirming again
    # (a retry of the lost request) answers the same outcome without another charge.
    recovered = gateway.charge_outcome(stored_id)
    assert (recovered.status, recovered.provider_id) == (ports.SUCCEEDED, stored_id)
    assert gateway.confirm_charge(stored_id, asked) == recovered
    assert [(i["id"], i["status"]) for i in localstripe.payment_intents()] == [
        (stored_id, "succeeded")]


def test_a_crash_before_confirming_leaves_an_intent_to_confirm_once(
        gateway: StripeGateway, customer: str, localstripe: LocalStripe) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    asked = request(token)
    stored_id = gateway.open_charge(asked)  # committed; the process dies before confirming
    assert gateway.charge_outcome(stored_id).status == ports.REQUIRES_CONFIRMATION
    assert gateway.confirm_charge(stored_id, asked).status == ports.SUCCEEDED
    assert len(localstripe.payment_intents()) == 1


def test_a_canceled_intent_stays_canceled_and_charges_nothing(
        gateway: StripeGateway, customer: str) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    asked = request(token)
    intent = gateway.open_charge(asked)
    assert gateway.cancel_charge(intent).status == ports.CANCELED
    assert gateway.confirm_charge(intent, asked).status == ports.CANCELED


def test_a_succeeded_intent_cannot_be_canceled(gateway: StripeGateway, customer: str) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    outcome = charged(gateway, token)
    assert outcome.provider_id is not None
    assert gateway.cancel_charge(outcome.provider_id).status == ports.SUCCEEDED


# -- SEPA Direct Debit --------------------------------------------------------------------


def test_a_sepa_debit_succeeds(gateway: StripeGateway, customer: str) -> None:
    token = saved(gateway, customer, sepa_method(gateway, IBAN_SUCCEEDS)).token
    outcome = charged(gateway, token)
    assert outcome.provider_id is not None
    assert settled(gateway, outcome.provider_id).status == ports.SUCCEEDED
    # The mandate's email is the payment method's; the debit gives Stripe no receipt address.
    intent = gateway.client.v1.payment_intents.retrieve(outcome.provider_id).to_dict()
    assert (intent["payment_method_types"], intent["receipt_email"]) == (["sepa_debit"], None)
    method = gateway.client.v1.payment_methods.retrieve(token).to_dict()
    assert method["billing_details"]["email"] == "owner@officinaverde.example"


def test_a_sepa_debit_is_processing_then_fails(gateway: StripeGateway, customer: str) -> None:
    token = saved(gateway, customer, sepa_method(gateway, IBAN_FAILS)).token
    outcome = charged(gateway, token)
    assert outcome.status == ports.PROCESSING and outcome.provider_id is not None
    after = settled(gateway, outcome.provider_id)
    assert (after.status, after.message) == (ports.DECLINED, "Your card was declined.")


# -- refunds ------------------------------------------------------------------------------


def test_a_payment_is_refunded_in_part_then_in_full(gateway: StripeGateway,
                                                    customer: str) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    intent = charged(gateway, token).provider_id
    assert intent is not None
    partial = gateway.refund(intent, 1800, "ref_inv_1_1")
    assert (partial.status, partial.amount_minor) == ("succeeded", 1800)
    assert partial.refund_id.startswith("re_")
    rest = gateway.refund(intent, 3000, "ref_inv_1_2")
    assert (rest.status, rest.amount_minor) == ("succeeded", 3000)
    charge = gateway.client.v1.charges.retrieve(str(charged_id(gateway, intent)))
    assert (charge.amount_refunded, charge.refunded) == (4800, True)


def test_a_declined_payment_cannot_be_refunded(gateway: StripeGateway, customer: str) -> None:
    token = saved(gateway, customer, card_method(gateway, DECLINED_WHEN_CHARGED)).token
    intent = charged(gateway, token).provider_id
    assert intent is not None
    with pytest.raises(ports.RefundRefused, match=r"Cannot refund a failed payment\."):
        gateway.refund(intent, 4800, "ref_inv_1_1")


def charged_id(gateway: StripeGateway, intent: str) -> str | None:
    return gateway.charge_outcome(intent).charge_id


# -- the port's one-step charge -----------------------------------------------------------


def test_the_one_step_charge_opens_and_confirms_with_the_intent_key(
        gateway: StripeGateway, customer: str, localstripe: LocalStripe) -> None:
    token = saved(gateway, customer, card_method(gateway, VISA)).token
    outcome = gateway.charge(token, 4800, "EUR", "col_inv_1_1")
    assert (outcome.status, outcome.key) == (ports.SUCCEEDED, "col_inv_1_1")
    assert [(i["amount"], i["status"]) for i in localstripe.payment_intents()] == [
        (4800, "succeeded")]


def test_the_one_step_charge_reports_an_open_outcome_as_not_known_yet(
        gateway: StripeGateway, customer: str) -> None:
    # localstripe's failing IBAN is processing for a while (its other succeeds at once).
    token = saved(gateway, customer, sepa_method(gateway, IBAN_FAILS)).token
    with pytest.raises(ports.GatewayTimeout, match="processing"):
        gateway.charge(token, 4800, "EUR", "col_inv_1_1")


def test_off_session_a_card_that_wants_three_d_secure_needs_the_customer(
        gateway: StripeGateway, customer: str) -> None:
    token = saved(gateway, customer, card_method(gateway, THREE_D_SECURE)).token
    outcome = gateway.charge(token, 4800, "EUR", "col_inv_1_1")
    assert (outcome.status, outcome.charge_id, outcome.message) == (
        ports.AUTHENTICATION_REQUIRED, None,
        "Your card was declined. This transaction requires authentication.")
