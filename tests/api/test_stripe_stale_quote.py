"""A plan change whose quote goes stale while its 3-D Secure challenge is open (SPEC §9),
against localstripe with the test card `4000002760003184`: support applies another change
meanwhile. Still open, its PaymentIntent is cancelled by reconciliation and nothing is
charged. Succeeded anyway (the customer finished the challenge), the change is not applied:
the payment is invoiced, refunded in full through Stripe with one credit note to the card,
and the customer is told in their language; once, whichever of Stripe's events and the
page's follow-up come first, twice and out of order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from canone.db.tables import outbox
from canone.integrations.email_templates import message_for
from canone.services import payments
from canone.services.context import Services
from canone.services.quotes import REFUNDED_MESSAGE
from stripefixtures import LocalStripe

from .conftest import API, bearer, config, move_clock
from .stripemode import event, get, post_event, services, settings
from .test_stripe_refunds import stripe_refunds
from .test_stripe_three_d_secure import challenged, confirm, tier

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def overtaken(client: TestClient, operator_key: str, account_id: str) -> None:
    """Support moves the account from plus to starter at once, on 16 April: the quote of the
    challenged upgrade is stale (15 of 30 days: 24.50 − 7.50 = 17.00 of unused time)."""
    created = client.post(f"{API}/accounts/{account_id}/change-requests",
                          headers=bearer(operator_key),
                          json={"desired": config(tier="starter"), "reason": "Budget"})
    assert created.status_code == 201, created.text
    done = client.post(f"{API}/change-requests/{created.json()['id']}/transitions",
                       headers=bearer(operator_key), json={"to": "completed", "effective": "now"})
    assert done.status_code == 200, done.text


def emails(services: Services, kind: str) -> list[dict[str, Any]]:
    query = select(outbox.c.payload).where(outbox.c.channel == "email").order_by(outbox.c.seq)
    with services.database.engine.connect() as connection:
        payloads = [row.payload for row in connection.execute(query)]
    return [p for p in payloads if p["kind"] == kind]


def succeeded(action: dict[str, Any]) -> dict[str, Any]:
    return event("payment_intent.succeeded", action["payment_intent"])


FOLLOW_UP = "follow-up"  # the page submits the same quote again after the challenge


@pytest.mark.parametrize("order", [
    pytest.param([FOLLOW_UP, "event", FOLLOW_UP, "event"], id="page-first"),
    pytest.param(["event", "event", FOLLOW_UP, FOLLOW_UP], id="event-first"),
])
def test_a_change_paid_after_its_quote_went_stale_is_refunded_once_with_a_credit_note(
        client: TestClient, operator_key: str, services: Services, localstripe: LocalStripe,
        order: list[str]) -> None:
    account_id, token, action = challenged(client, operator_key, localstripe)
    overtaken(client, operator_key, account_id)
    localstripe.authenticate(action["payment_intent"], action["client_secret"], success=True)

    answers = []
    for n, step in enumerate(order):
        if step == FOLLOW_UP:
            answer = confirm(client, operator_key, account_id, token)
            assert answer.status_code == 409, answer.text
            answers.append((answer.json()["type"], answer.json()["detail"]))
        else:  # Stripe sends the event again under another id: each is re-read, once
            sent = post_event(client, {**succeeded(action), "id": f"evt_succeeded_{n}"})
            assert (sent.status_code, sent.json()["result"]) == (200, "settled")
    assert answers == [("urn:canone:problem:stale_quote_refunded", REFUNDED_MESSAGE)] * 2
    assert payments.reconcile(services, older_than=timedelta(0)) == 0

    assert tier(client, operator_key, account_id) == "starter"  # support's change stands
    assert stripe_refunds(localstripe) == [(4800, "succeeded", action["payment_intent"])]
    invoices = get(client, operator_key, f"/accounts/{account_id}/invoices")["data"]
    assert [(i["kind"], i["total"], i["amount_paid"], i["status"]) for i in invoices] == [
        ("upgrade", "48.00", "48.00", "refunded"), ("signup", "49.00", "49.00", "paid")]
    stale = invoices[0]
    notes = get(client, operator_key, f"/accounts/{account_id}/credit-notes")["data"]
    assert sorted((n["invoice_id"], n["reason"], n["settlement"], n["total"]) for n in notes) == (
        sorted([(stale["id"], "superseded_payment", "card", "48.00"),
                (invoices[1]["id"], "unused_time", "balance", "17.00")]))
    ledger = get(client, operator_key, f"/accounts/{account_id}/ledger")
    assert (ledger["balance"], [e["amount"] for e in ledger["entries"]]) == ("17.00", ["17.00"])
    with services.database.read() as store:
        rows = sorted((p.amount, p.status) for p in store.payments.of_account(account_id)
                      if p.invoice_id == stale["id"])
    assert rows == [(-4800, "refunded"), (4800, "succeeded")]

    [told] = emails(services, "change_refunded")
    note = next(n for n in notes if n["invoice_id"] == stale["id"])
    assert told["data"] == {"amount": 4800, "currency": "USD", "last4": "3184",
                            "invoice_number": stale["number"],
                            "credit_note_number": note["number"]}
    said = {language: message_for("change_refunded", language, told["data"]).paragraphs[1]
            for language in ("en", "it")}
    assert said == {
        "en": "your plan change was not applied because the price changed before the payment"
              " finished; we refunded $48.00 to your card ending 3184; it can take 5–10 days"
              " to show.",
        "it": "la modifica del tuo piano non è stata applicata perché il prezzo è cambiato"
              " prima che il pagamento fosse completato; ti abbiamo rimborsato 48,00\xa0USD"
              " sulla tua carta che termina con 3184; possono volerci 5–10 giorni perché"
              " compaia."}


def test_a_challenge_still_open_when_its_quote_goes_stale_is_cancelled_and_charges_nothing(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account_id, token, action = challenged(client, operator_key, localstripe)
    overtaken(client, operator_key, account_id)
    move_clock(client, operator_key, "2026-04-16T08:05:00Z")  # minutes, not the day's wait

    assert payments.reconcile(services, older_than=timedelta(minutes=1)) == 1
    found = localstripe.http.get(f"/v1/payment_intents/{action['payment_intent']}").json()
    assert found["status"] == "canceled"
    followed = confirm(client, operator_key, account_id, token)
    assert (followed.status_code, followed.json()["detail"]) == (
        402, payments.STALE_MESSAGE)
    assert tier(client, operator_key, account_id) == "starter"
    invoices = get(client, operator_key, f"/accounts/{account_id}/invoices")["data"]
    assert [i["kind"] for i in invoices] == ["signup"]
    assert stripe_refunds(localstripe) == []
    [told] = emails(services, "change_declined")
    assert (told["data"]["reason"], told["data"]["amount"]) == ("stale_quote", 4800)
    english = message_for("change_declined", "en", told["data"])
    assert (english.subject, english.paragraphs[1], english.paragraphs[3]) == (
        "Your plan change was not applied: payment cancelled",
        "we could not charge $48.00 to your card for the change to Marketing Enterprise, 1,000"
        " contacts, 1 user seat, monthly: the price changed before the payment finished, so we"
        " cancelled it.",
        "Review the change again on the Billing & Upgrade page: http://127.0.0.1:8000/billing")
    italian = message_for("change_declined", "it", told["data"])
    assert (italian.subject, italian.paragraphs[1]) == (
        "La modifica del piano non è stata applicata: pagamento annullato",
        "non siamo riusciti ad addebitare 48,00\xa0USD sulla tua carta per il passaggio a "
        "Marketing Enterprise, 1.000 contatti, 1 postazione utente, mensile: il prezzo è "
        "cambiato prima che il pagamento fosse completato, quindi l'abbiamo annullato.")
    assert emails(services, "change_refunded") == []


def test_the_page_s_follow_up_cancels_a_challenge_whose_quote_went_stale(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    """The page submits the quote again while the challenge is still open, after support's
    change: the PaymentIntent is cancelled then, so the bank's window can charge nothing."""
    account_id, token, action = challenged(client, operator_key, localstripe)
    overtaken(client, operator_key, account_id)

    followed = [confirm(client, operator_key, account_id, token),  # then without a key:
                client.post(f"{API}/accounts/{account_id}/subscription/confirm",
                            json={"quote_token": token}, headers=bearer(operator_key))]
    assert [(f.status_code, f.json()["decline_code"], f.json()["detail"]) for f in followed] == [
        (402, "stale_quote", payments.STALE_MESSAGE)] * 2
    found = localstripe.http.get(f"/v1/payment_intents/{action['payment_intent']}").json()
    assert found["status"] == "canceled"
    late = post_event(client, succeeded(action))  # out of order: nothing succeeded
    assert late.status_code == 200, late.text
    assert tier(client, operator_key, account_id) == "starter"
    assert [i["kind"] for i in get(client, operator_key,
                                   f"/accounts/{account_id}/invoices")["data"]] == ["signup"]
    assert stripe_refunds(localstripe) == []
    assert [e["data"]["reason"] for e in emails(services, "change_declined")] == ["stale_quote"]


def settled_not_refunded(client: TestClient, operator_key: str, services: Services,
                         localstripe: LocalStripe) -> tuple[str, str, dict[str, Any]]:
    """A stale quote's payment settled (invoiced, not applied), and the process dead before
    asking Stripe for the refund: the account, the quote token and the challenge."""
    account_id, token, action = challenged(client, operator_key, localstripe)
    overtaken(client, operator_key, account_id)
    localstripe.authenticate(action["payment_intent"], action["client_secret"], success=True)
    outcome = services.gateway.charge_outcome(action["payment_intent"])
    with services.database.transaction() as store:  # settled; the refund never asked for
        assert payments.settle_in(services, store, str(outcome.key), outcome) is not None
    assert stripe_refunds(localstripe) == []
    return account_id, token, action


def test_a_crash_between_settling_and_refunding_is_recovered_by_stripe_s_event(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    """The payment is settled (invoiced, not applied) and the process dies before asking
    Stripe for the refund: Stripe's `payment_intent.succeeded`, which it sends again until
    answered, finds the intent settled and makes the refund then; once."""
    account_id, token, action = settled_not_refunded(client, operator_key, services,
                                                     localstripe)
    for n in range(2):
        sent = post_event(client, {**succeeded(action), "id": f"evt_retried_{n}"})
        assert (sent.status_code, sent.json()["result"]) == (200, "settled")
    assert stripe_refunds(localstripe) == [(4800, "succeeded", action["payment_intent"])]
    assert len(emails(services, "change_refunded")) == 1
    answer = confirm(client, operator_key, account_id, token)
    assert (answer.status_code, answer.json()["detail"]) == (409, REFUNDED_MESSAGE)
    assert stripe_refunds(localstripe) == [(4800, "succeeded", action["payment_intent"])]


def test_a_crash_between_settling_and_refunding_is_recovered_by_reconciliation(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    """Neither Stripe's event nor the customer comes back: `canone payments reconcile`
    (`reconcile_all`) finds the settled payment unrefunded and refunds it; once, however
    often it runs, and a follow-up afterwards refunds nothing more."""
    account_id, token, action = settled_not_refunded(client, operator_key, services,
                                                     localstripe)
    move_clock(client, operator_key, "2026-04-16T09:00:00Z")
    for _ in range(2):
        done = payments.reconcile_all(services, older_than=timedelta(0))
        assert (done.settled, done.errors) == (0, [])
    assert stripe_refunds(localstripe) == [(4800, "succeeded", action["payment_intent"])]
    invoices = get(client, operator_key, f"/accounts/{account_id}/invoices")["data"]
    assert [(i["kind"], i["amount_paid"], i["status"]) for i in invoices] == [
        ("upgrade", "48.00", "refunded"), ("signup", "49.00", "paid")]
    notes = get(client, operator_key, f"/accounts/{account_id}/credit-notes")["data"]
    assert sorted((n["reason"], n["settlement"], n["total"]) for n in notes) == [
        ("superseded_payment", "card", "48.00"), ("unused_time", "balance", "17.00")]
    assert len(emails(services, "change_refunded")) == 1
    answer = confirm(client, operator_key, account_id, token)
    assert (answer.status_code, answer.json()["detail"]) == (409, REFUNDED_MESSAGE)
    assert stripe_refunds(localstripe) == [(4800, "succeeded", action["payment_intent"])]
