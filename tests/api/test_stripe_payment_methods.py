"""Cards on file with Stripe (SPEC §9), against localstripe: the API takes a payment method
made by Stripe Elements, never a card number; a card Stripe refuses to save is a 402 with
Stripe's message; a SetupIntent for Elements is made on the account's Stripe customer,
which is made on first use and kept."""

from __future__ import annotations

from fastapi.testclient import TestClient

from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, bearer, sign_up, signup_body
from .stripemode import services, settings

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name

VISA, REFUSED = "4242424242424242", "4000000000000002"
NO_NUMBERS = ("Card numbers never reach canone with Stripe: collect the card with Stripe"
              " Elements (a SetupIntent from POST /api/v1/accounts/{id}/setup-intents) and"
              " send its payment method as `stripe_payment_method`.")


def customer_of(services: Services, account_id: str) -> str | None:
    with services.database.read() as store:
        return store.accounts.payment_customer_of(account_id)


def test_sign_up_with_a_stripe_payment_method_keeps_the_card_and_the_customer(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    method = localstripe.card_method(VISA, exp_month=11, exp_year=2031)
    account = sign_up(client, operator_key, payment_method={"stripe_payment_method": method})

    assert account["card"] == {"brand": "visa", "last4": "4242", "exp_month": 11,
                               "exp_year": 2031}
    assert account["invoice"]["status"] == "paid"
    customer = customer_of(services, account["id"])
    assert customer is not None and customer.startswith("cus_")
    saved = localstripe.http.get(f"/v1/payment_methods/{method}").json()
    assert saved["customer"] == customer
    (paid,) = localstripe.payment_intents()
    assert (paid["status"], paid["amount"], paid["customer"]) == ("succeeded", 4900, customer)


def test_a_card_number_never_reaches_canone_with_stripe(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    typed = client.post(f"{API}/accounts", json=signup_body(), headers=bearer(operator_key))
    assert typed.status_code == 422
    assert (typed.json()["field"], typed.json()["detail"]) == ("payment_method.number",
                                                              NO_NUMBERS)
    account = sign_up(client, operator_key, payment_method={
        "stripe_payment_method": localstripe.card_method(VISA)})
    put = client.put(f"{API}/accounts/{account['id']}/payment-method",
                     json={"number": VISA, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                     headers=bearer(operator_key))
    assert put.status_code == 422
    assert (put.json()["field"], put.json()["detail"]) == ("payment_method.number", NO_NUMBERS)
    assert len(localstripe.payment_intents()) == 1  # the sign-up's alone


def test_a_card_stripe_refuses_to_save_is_a_402_with_stripes_message(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account = sign_up(client, operator_key, payment_method={
        "stripe_payment_method": localstripe.card_method(VISA)})
    refused = client.put(f"{API}/accounts/{account['id']}/payment-method",
                         json={"stripe_payment_method": localstripe.card_method(REFUSED)},
                         headers=bearer(operator_key))

    assert refused.status_code == 402
    assert refused.json()["detail"] == "Your card was declined."
    after = client.get(f"{API}/accounts/{account['id']}", headers=bearer(operator_key))
    assert after.json()["card"]["last4"] == "4242"


def test_a_new_card_is_saved_to_the_accounts_customer(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = sign_up(client, operator_key, payment_method={
        "stripe_payment_method": localstripe.card_method(VISA)})
    customer = customer_of(services, account["id"])
    method = localstripe.card_method("4000056655665556", exp_month=3, exp_year=2032)
    put = client.put(f"{API}/accounts/{account['id']}/payment-method",
                     json={"stripe_payment_method": method}, headers=bearer(operator_key))

    assert put.status_code == 200, put.text
    assert put.json()["card"] == {"brand": "visa", "last4": "5556", "exp_month": 3,
                                  "exp_year": 2032}
    assert localstripe.http.get(f"/v1/payment_methods/{method}").json()["customer"] == customer


def test_a_setup_intent_is_made_on_the_accounts_customer_made_once(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = sign_up(client, operator_key, payment_method={
        "stripe_payment_method": localstripe.card_method(VISA)})
    with services.database.transaction() as store:  # an account from before Stripe
        store.connection.exec_driver_sql("DELETE FROM payment_customers")
    made = [client.post(f"{API}/accounts/{account['id']}/setup-intents",
                        headers=bearer(operator_key)) for _ in range(2)]

    assert [answer.status_code for answer in made] == [201, 201]
    customer = customer_of(services, account["id"])
    assert customer is not None
    for answer in made:
        setup = localstripe.http.get(f"/v1/setup_intents/{answer.json()['id']}").json()
        assert (setup["customer"], setup["usage"], setup["payment_method_types"]) == (
            customer, "off_session", ["card"])
        assert answer.json()["client_secret"] == setup["client_secret"]
