"""Off-session 3-D Secure with Stripe (SPEC §9), against localstripe (which refuses an
off-session charge of a card whose bank demands authentication as Stripe does, see
tests/localstripe_server.py): the renewal stays open and is not retried behind the
customer's back; its retry days remind instead of charging; the customer pays it on-session
(202 `requires_action`, the challenge, then pay again: paid once); a new card is charged."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from canone.db.tables import outbox
from canone.services.context import Services
from stripefixtures import LocalStripe

from .conftest import API, bearer, move_clock
from .stripemode import THREE_D_SECURE, VISA, get, post, services, settings, stripe_sign_up

__all__ = ["services", "settings"]  # the Stripe-mode fixtures, used by name


def renewed_on_a_challenging_card(client: TestClient, operator_key: str,
                                  localstripe: LocalStripe) -> tuple[str, dict[str, Any]]:
    """An account whose saved card wants 3-D Secure, renewed on 1 May: its id and the
    renewal invoice."""
    account = stripe_sign_up(client, operator_key, localstripe)
    put_card(client, operator_key, account["id"], localstripe, THREE_D_SECURE)
    move_clock(client, operator_key, "2026-05-01T08:00:00Z")
    run = post(client, operator_key, "/billing-runs")
    assert (run["renewed"], run["failed"], run["collected"]) == (1, 1, 0)
    invoice = get(client, operator_key, f"/accounts/{account['id']}/invoices")["data"][0]
    return account["id"], invoice


def put_card(client: TestClient, operator_key: str, account_id: str,
             localstripe: LocalStripe, number: str) -> None:
    answer = client.put(f"{API}/accounts/{account_id}/payment-method",
                        headers=bearer(operator_key),
                        json={"stripe_payment_method": localstripe.card_method(number)})
    assert answer.status_code == 200, answer.text


def notices(services: Services) -> list[tuple[str, bool]]:
    """The e-mails queued for the primary admin about payments: kind, and reminder or not."""
    query = select(outbox.c.payload).where(outbox.c.channel == "email").order_by(outbox.c.seq)
    with services.database.engine.connect() as connection:
        payloads = [row.payload for row in connection.execute(query)]
    return [(p["kind"], bool(p["data"].get("reminder"))) for p in payloads
            if p["kind"].startswith("payment_")]


def intents(localstripe: LocalStripe) -> list[tuple[object, object]]:
    return sorted((i["amount"], i["status"]) for i in localstripe.payment_intents())


def test_the_renewal_stays_open_and_its_retry_days_remind_instead_of_charging(
        client: TestClient, operator_key: str, services: Services,
        localstripe: LocalStripe) -> None:
    account_id, invoice = renewed_on_a_challenging_card(client, operator_key, localstripe)
    assert (invoice["status"], invoice["amount_due"]) == ("open", "49.00")
    assert intents(localstripe) == [(4900, "requires_payment_method"), (4900, "succeeded")]
    assert notices(services) == [("payment_authentication", False)]

    for day in ("2026-05-03", "2026-05-05"):
        move_clock(client, operator_key, f"{day}T08:00:00Z")
        post(client, operator_key, "/billing-runs")
    assert len(localstripe.payment_intents()) == 2  # no charge behind the customer's back
    assert notices(services) == [("payment_authentication", False),
                                 ("payment_authentication", True),
                                 ("payment_authentication", True)]
    entitled = get(client, operator_key, f"/accounts/{account_id}/entitlements")
    assert entitled["restricted"] is False  # until the last retry day, as ever (SPEC §5)


def test_the_customer_pays_it_on_the_page_with_the_challenge_and_it_is_paid_once(
        client: TestClient, operator_key: str, localstripe: LocalStripe) -> None:
    _account_id, invoice = renewed_on_a_challenging_card(client, operator_key, localstripe)
    pay = f"{API}/invoices/{invoice['id']}/pay"
    asked = [client.post(pay, headers=bearer(operator_key)) for _ in range(2)]
    assert [answer.status_code for answer in asked] == [202, 202]
    action = asked[0].json()
    assert asked[1].json() == action
    paying = localstripe.http.get(f"/v1/payment_intents/{action['payment_intent']}").json()
    assert (paying["status"], paying["amount"], paying["client_secret"]) == (
        "requires_action", 4900, action["client_secret"])

    localstripe.authenticate(action["payment_intent"], action["client_secret"], success=True)
    paid = [client.post(pay, headers=bearer(operator_key)) for _ in range(2)]

    assert [answer.status_code for answer in paid] == [200, 200]
    assert [(a.json()["status"], a.json()["amount_paid"]) for a in paid] == [
        ("paid", "49.00")] * 2
    assert intents(localstripe) == [(4900, "requires_payment_method"), (4900, "succeeded"),
                                    (4900, "succeeded")]


def test_a_new_card_is_charged_at_once(client: TestClient, operator_key: str,
                                       localstripe: LocalStripe) -> None:
    account_id, invoice = renewed_on_a_challenging_card(client, operator_key, localstripe)
    put_card(client, operator_key, account_id, localstripe, VISA)

    after = get(client, operator_key, f"/invoices/{invoice['id']}")
    assert (after["status"], after["amount_paid"]) == ("paid", "49.00")
    assert intents(localstripe) == [(4900, "requires_payment_method"), (4900, "succeeded"),
                                    (4900, "succeeded")]
