"""Stripe's other events (SPEC §9) at `POST /webhooks/stripe`, against localstripe: each
handler re-reads its object from Stripe and applies it once, whatever the order and however
often the events come: refunds made at Stripe (refund.updated, charge.refunded), a card set
up on Stripe's form (setup_intent.succeeded) becoming the card on file, a card
detached at Stripe (payment_method.detached) no longer on file, a card the network
renewed (payment_method.automatically_updated) shown with its new expiry."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, bearer
from .stripemode import event, get, post, post_event, services, settings, stripe_sign_up

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def results(client: TestClient, events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    answers = [post_event(client, e) for e in events]
    return [(a.status_code, a.json().get("result", a.text)) for a in answers]


def card_changes_after(client: TestClient, operator_key: str, services: Services,
                       account_id: str, saved: dict[str, Any], card: dict[str, Any]) -> list[Any]:
    """Send `saved` twice, then under another id: each time the card on file is `card`;
    the account.card_updated entries of the audit trail."""
    assert results(client, [saved, saved, {**saved, "id": "evt_again"}]) == [(200, "saved")] * 3
    assert get(client, operator_key, f"/accounts/{account_id}")["card"] == card
    with services.database.read() as store:
        return store.audit.of_account(account_id, 100, action="account.card_updated")


def payments_of(services: Services, account_id: str) -> list[tuple[int, str]]:
    with services.database.read() as store:
        return sorted((p.amount, p.status) for p in store.payments.of_account(account_id))


def test_a_refund_made_at_stripe_is_recorded_once_whatever_the_events(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    (paid,) = localstripe.payment_intents()
    made = localstripe.http.post("/v1/refunds", data={"payment_intent": paid["id"],
                                                      "amount": "1000"}).json()
    charge = str(paid["latest_charge"]) if isinstance(paid["latest_charge"], str) else str(
        paid["latest_charge"]["id"])  # type: ignore[index]
    events = [event("charge.refunded", charge), event("refund.updated", made["id"]),
              event("refund.updated", made["id"]), event("charge.refunded", charge)]

    assert results(client, events) == [(200, "recorded")] * 4
    assert payments_of(services, account["id"]) == [(-1000, "refunded"), (4900, "succeeded")]
    invoice = get(client, operator_key, f"/invoices/{account['invoice']['id']}")
    assert invoice["status"] == "partially_refunded"
    notes = get(client, operator_key, f"/accounts/{account['id']}/credit-notes")["data"]
    assert [(n["total"], n["reason"], n["settlement"]) for n in notes] == [
        ("10.00", "refund", "card")]  # one credit note, however many events

    # The rest refunded through canone: the event Stripe sends then changes nothing more.
    rest = client.post(f"{API}/invoices/{account['invoice']['id']}/refunds",
                       headers=bearer(operator_key))
    assert (rest.status_code, rest.json()["amount"]) == (201, "39.00")
    assert results(client, [event("charge.refunded", charge, "evt_after")]) == [
        (200, "recorded")]
    assert payments_of(services, account["id"]) == [(-3900, "refunded"), (-1000, "refunded"),
                                                    (4900, "succeeded")]
    assert get(client, operator_key, f"/invoices/{account['invoice']['id']}")["status"] == (
        "refunded")


def test_a_card_set_up_on_stripes_form_becomes_the_card_on_file_once(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    setup = post(client, operator_key, f"/accounts/{account['id']}/setup-intents")
    pending = results(client, [event("setup_intent.succeeded", setup["id"], "evt_early")])
    assert pending == [(200, "open")]  # not confirmed yet: nothing to apply
    # What Stripe.js's confirmCardSetup sends from the customer's browser:
    confirmed = localstripe.http.post(f"/v1/setup_intents/{setup['id']}/confirm", data={
        "client_secret": setup["client_secret"], "payment_method_data[type]": "card",
        "payment_method_data[card][number]": "4000056655665556",
        "payment_method_data[card][exp_month]": "8",
        "payment_method_data[card][exp_year]": "2032", "payment_method_data[card][cvc]": "123"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "succeeded"

    succeeded = event("setup_intent.succeeded", setup["id"])
    changes = card_changes_after(client, operator_key, services, account["id"], succeeded, {
        "brand": "visa", "last4": "5556", "exp_month": 8, "exp_year": 2032})
    assert len(changes) == 1


def test_an_event_about_nothing_of_canones_is_ignored(client: TestClient) -> None:
    assert results(client, [event("payment_method.detached", "pm_unknown")]) == [
        (200, "ignored")]


def test_a_card_detached_at_stripe_is_no_longer_on_file(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    (paid,) = localstripe.payment_intents()
    method = str(paid["payment_method"])
    still = results(client, [event("payment_method.detached", method, "evt_too_early")])
    assert still == [(200, "ignored")]  # still attached at Stripe: nothing to apply
    assert get(client, operator_key, f"/accounts/{account['id']}")["card"] is not None

    detached = localstripe.http.post(f"/v1/payment_methods/{method}/detach")
    assert detached.status_code == 200, detached.text
    gone = event("payment_method.detached", method)
    assert results(client, [gone, gone, {**gone, "id": "evt_again"}]) == [
        (200, "removed"), (200, "removed"), (200, "ignored")]
    assert get(client, operator_key, f"/accounts/{account['id']}")["card"] is None


def test_a_card_the_network_renewed_at_stripe_shows_its_new_expiry_once(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account = stripe_sign_up(client, operator_key, localstripe)
    (paid,) = localstripe.payment_intents()
    method = str(paid["payment_method"])
    # The card network's updater gives the card a new expiry at Stripe.
    # (localstripe replaces the whole `card` on an update: what it has is sent back with it.)
    card = localstripe.http.get(f"/v1/payment_methods/{method}").json()["card"]
    kept = {f"card[{k}]": str(v) for k, v in card.items() if isinstance(v, (str, int))}
    renewed = localstripe.http.post(f"/v1/payment_methods/{method}", data={
        **kept, "card[exp_month]": "9", "card[exp_year]": "2034"})
    assert renewed.status_code == 200, renewed.text

    updated = event("payment_method.automatically_updated", method)
    changes = card_changes_after(client, operator_key, services, account["id"], updated, {
        "brand": "visa", "last4": "4242", "exp_month": 9, "exp_year": 2034})
    assert [(c.before, c.after) for c in changes] == [(
        {"last4": "4242", "exp_month": 12, "exp_year": 2030},
        {"last4": "4242", "exp_month": 9, "exp_year": 2034})]  # once, however often it came
    assert results(client, [event("payment_method.automatically_updated", "pm_unknown")]
                   ) == [(200, "ignored")]
