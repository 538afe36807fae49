"""Stripe's minimum charge (SPEC §9), against localstripe: an amount under 0.50 is never
charged; the preview says so, the change applies at once, and the amount is a debit line
of the account's next invoice. An invoice whose amount due is under the minimum is settled
the same way, and its amount billed on the next one."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from canone.services import subscriptions
from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, bearer, config, move_clock
from .stripemode import get, post, services, settings, stripe_sign_up

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name

CARRIED_LINE = {"key": "carried", "amount": "0.48",
                "description": "Carried from earlier: amounts below the minimum charge"}


def amounts(localstripe: LocalStripe) -> list[tuple[object, object]]:
    return sorted((i["amount"], i["status"]) for i in localstripe.payment_intents())


def quoted_under_minimum(client: TestClient, operator_key: str, localstripe: LocalStripe
                         ) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """An account renewed on 1 May, quoted the SMS add-on on 31 May, under the minimum:
    the account, its API path and the quote."""
    account = stripe_sign_up(client, operator_key, localstripe)
    path = f"/accounts/{account['id']}"
    move_clock(client, operator_key, "2026-05-01T08:00:00Z")
    post(client, operator_key, "/billing-runs")
    # The last day of May's 31 days: the SMS add-on (15.00 a month) costs 15 / 31 = 0.48.
    move_clock(client, operator_key, "2026-05-31T08:00:00Z")
    quote = post(client, operator_key, f"{path}/subscription/preview",
                 {"target": config(addons=["sms"])})
    assert (quote["change"]["due_now"], quote["carried_to_next_invoice"]) == ("0.48", True)
    return account, path, quote


def test_a_change_under_the_minimum_applies_at_once_and_is_billed_on_the_next_invoice(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    _, path, quote = quoted_under_minimum(client, operator_key, localstripe)

    done = post(client, operator_key, f"{path}/subscription/confirm",
                {"quote_token": quote["quote_token"]})
    assert done["invoice"] is None
    assert done["subscription"]["configuration"]["addons"] == ["sms"]
    assert amounts(localstripe) == [(4900, "succeeded"), (4900, "succeeded")]
    assert get(client, operator_key, f"{path}/ledger")["balance"] == "-0.48"

    move_clock(client, operator_key, "2026-06-01T08:00:00Z")
    post(client, operator_key, "/billing-runs")
    june = get(client, operator_key, f"{path}/invoices")["data"][0]
    assert june["lines"][-1] == CARRIED_LINE
    assert (june["total"], june["amount_paid"], june["status"]) == ("64.48", "64.48", "paid")
    assert amounts(localstripe) == [(4900, "succeeded"), (4900, "succeeded"),
                                    (6448, "succeeded")]
    assert get(client, operator_key, f"{path}/ledger")["balance"] == "0.00"


def test_a_quote_over_the_minimum_is_charged_as_ever(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    move_clock(client, operator_key, "2026-04-30T08:00:00Z")  # day 30 of 30: 15 / 30
    quote = post(client, operator_key, f"/accounts/{account['id']}/subscription/preview",
                 {"target": config(addons=["sms"])})
    assert (quote["change"]["due_now"], quote["carried_to_next_invoice"]) == ("0.50", False)
    done = post(client, operator_key, f"/accounts/{account['id']}/subscription/confirm",
                {"quote_token": quote["quote_token"]})
    assert done["invoice"]["amount_paid"] == "0.50"
    assert amounts(localstripe) == [(50, "succeeded"), (4900, "succeeded")]


def test_an_invoice_due_under_the_minimum_is_carried_not_declined(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    with services.database.transaction() as store:  # support's goodwill credit
        found = store.accounts.get(account["id"])
        assert found is not None
        subscriptions.credit(services, store, found, 4852, "Goodwill", None)
    move_clock(client, operator_key, "2026-05-01T08:00:00Z")
    report = post(client, operator_key, "/billing-runs")
    may = get(client, operator_key, f"/accounts/{account['id']}/invoices")["data"][0]
    assert (may["total"], may["amount_paid"], may["status"]) == ("49.00", "0.00", "paid")
    assert report["failed"] == 0
    assert amounts(localstripe) == [(4900, "succeeded")]  # the sign-up's alone
    assert get(client, operator_key, f"/accounts/{account['id']}/ledger")["balance"] == "-0.48"
    entitled = client.get(f"{API}/accounts/{account['id']}/entitlements",
                          headers=bearer(operator_key))
    assert entitled.json()["restricted"] is False

    move_clock(client, operator_key, "2026-06-01T08:00:00Z")
    post(client, operator_key, "/billing-runs")
    june = get(client, operator_key, f"/accounts/{account['id']}/invoices")["data"][0]
    assert june["lines"][-1] == CARRIED_LINE
    assert (june["total"], june["amount_paid"]) == ("49.48", "49.48")
