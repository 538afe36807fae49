"""The Stripe of the tests answers the official SDK (tests/stripefixtures.py)."""

from __future__ import annotations

import stripe

from stripefixtures import TEST_KEY, LocalStripe


def test_the_sdk_talks_to_localstripe_at_the_api_base(stripe_base: str) -> None:
    client = stripe.StripeClient(TEST_KEY, base_addresses={"api": stripe_base},
                                 max_network_retries=0)
    customer = client.v1.customers.create({"email": "owner@northwind.example"})
    assert customer.id.startswith("cus_")
    assert client.v1.customers.retrieve(customer.id).email == "owner@northwind.example"


def test_each_test_starts_with_an_empty_localstripe(stripe_base: str,
                                                    localstripe: LocalStripe) -> None:
    assert localstripe.payment_intents() == []
    assert localstripe.http.get("/v1/customers").json()["data"] == []
