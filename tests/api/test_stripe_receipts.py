"""Stripe's own receipts are off (SPEC §9), against localstripe: canone sends its own, so
Stripe is given no address to send one to, whatever its dashboard says. The customer made
at sign-up has a name and canone's account id but no email; the PaymentIntents of the
sign-up, of a plan change and of a renewal have no `receipt_email` and name their
`payment_method_types` (tests/localstripe_server.py keeps both as canone sent them)."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import config, move_clock
from .stripemode import change_confirmed, get, post, services, settings, stripe_sign_up

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


def test_stripe_gets_no_address_for_receipts_on_sign_up_change_and_renewal(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe, name="Northwind")
    move_clock(client, operator_key, "2026-04-16T08:00:00Z")
    _token, changed = change_confirmed(client, operator_key, account["id"],
                                       config(tier="enterprise"))
    assert changed.status_code == 200, changed.text
    move_clock(client, operator_key, "2026-05-01T08:00:00Z")
    run = post(client, operator_key, "/billing-runs")
    assert (run["renewed"], run["collected"]) == (1, 1)

    with services.database.read() as store:
        customer_id = store.accounts.payment_customer_of(account["id"])
    customer = localstripe.http.get(f"/v1/customers/{customer_id}").json()
    assert customer["email"] is None
    assert customer["name"] == "Northwind"
    assert customer["metadata"]["canone_account"].startswith("signup_pm_")

    invoices = get(client, operator_key, f"/accounts/{account['id']}/invoices")["data"]
    assert [(i["kind"], i["status"]) for i in invoices] == [
        ("renewal", "paid"), ("upgrade", "paid"), ("signup", "paid")]
    intents = sorted(localstripe.payment_intents(), key=lambda i: str(i["created"]))
    assert [(i["amount"], i["status"], i["receipt_email"], i["payment_method_types"])
            for i in intents] == [
        (minor(invoice["total"]), "succeeded", None, ["card"])
        for invoice in reversed(invoices)]
