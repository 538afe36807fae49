"""The Stripe of the tests answers the official SDK (tests/stripefixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

import stripefixtures
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


def test_a_localstripe_that_does_not_start_is_reported_with_its_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import sys\nprint('no module named aiohttp')\nsys.exit(1)\n")
    monkeypatch.setattr(stripefixtures, "SERVER", broken)
    reported = r"(?s)did not start on port \d+:\n.*no module named aiohttp"
    with pytest.raises(RuntimeError, match=reported):
        stripefixtures.start_localstripe()
