"""A past-due account (SPEC §5): restricted until its open invoice is paid, so it buys
nothing new meanwhile, and it can pay that invoice at once ("Pay now") with the card on
file, through the same collection path as the retries."""

from __future__ import annotations

import pytest

import stored
from canone.services import accounts, quotes, renewal, standing, usage
from canone.services.access import ACCOUNT_KEY, Actor
from canone.services.errors import AccountRestricted, Forbidden, PaymentFailed
from canone.services.ports import SUCCEEDED

from .conftest import DECLINED_CARD, add_person, admin_of, at, config, sign_up


def past_due(svc, clock, plan=None) -> str:
    """Ada's account after the May renewal and its retries on days 3, 5 and 7 declined."""
    signed = sign_up(svc, plan or config(contacts=2500))
    accounts.update_card(svc, admin_of(svc, signed.account.id), signed.account.id,
                         DECLINED_CARD)
    for day in (1, 3, 5, 7):
        clock.set(at(2026, 5, day))
        renewal.run(svc)
    assert stored.account(svc, signed.account.id).status == "past_due"
    return signed.account.id


def bank_lifts_the_block(svc, account_id: str) -> None:
    """The customer's bank stops declining the card on file (the card stays the same)."""
    card = stored.account(svc, account_id).card
    assert card is not None
    with svc.gateway._transaction() as db:
        db.execute("UPDATE cards SET behaviour = ? WHERE token = ?", (SUCCEEDED, card.token))


def test_a_past_due_account_buys_nothing_new_and_is_told_why(svc, clock) -> None:
    account_id = past_due(svc, clock)
    ada = admin_of(svc, account_id)
    (_, renewal_invoice) = stored.invoices(svc, account_id)

    for target in (config(tier="pro", contacts=2500), config(contacts=5000),
                   config(contacts=2500, seats=2),
                   config(contacts=2500, addons=("sms",))):
        with pytest.raises(AccountRestricted) as refused:
            quotes.preview(svc, ada, account_id, target)
        assert refused.value.message == (
            f"The account is past due: pay {renewal_invoice.number} (69.00 USD) first. New "
            "purchases are blocked until it is paid.")

    # A reduction costs nothing and a request goes to support: both stay possible.
    assert quotes.preview(svc, ada, account_id, config(contacts=1000)).change.kind == "scheduled"
    assert quotes.preview(svc, ada, account_id,
                          config(tier="starter", contacts=2500)).change.kind == "request"


def test_pay_now_charges_the_open_invoice_once_and_lifts_the_restriction(svc, clock) -> None:
    account_id = past_due(svc, clock)
    ada = admin_of(svc, account_id)
    (_, owed) = stored.invoices(svc, account_id)
    bank_lifts_the_block(svc, account_id)
    card = stored.account(svc, account_id).card
    assert card is not None

    paid = standing.pay_invoice(svc, ada, owed.id)
    again = standing.pay_invoice(svc, ada, owed.id)  # a second click, or a replay

    assert (paid.status, paid.amount_paid, paid.attempts) == ("paid", 6900, 4)
    assert again == paid
    assert [c.amount_minor for c in svc.gateway.charges_for(card.token)
            if c.status == SUCCEEDED] == [6900]
    assert stored.account(svc, account_id).status == "active"
    assert stored.subscription(svc, account_id).status == "active"
    quote = quotes.preview(svc, ada, account_id, config(tier="pro", contacts=2500))
    assert quote.token is not None  # purchases are open again


def test_pay_now_with_a_card_still_declining_is_one_more_failed_attempt(svc, clock) -> None:
    account_id = past_due(svc, clock)
    (_, owed) = stored.invoices(svc, account_id)

    with pytest.raises(PaymentFailed) as failed:
        standing.pay_invoice(svc, admin_of(svc, account_id), owed.id)

    assert (failed.value.message, failed.value.decline_code) == (
        "Your card was declined.", "declined")
    (_, still) = stored.invoices(svc, account_id)
    assert (still.status, still.attempts) == ("open", 5)
    assert stored.account(svc, account_id).status == "past_due"


def test_only_people_with_billing_access_pay_and_only_their_invoices(svc, clock) -> None:
    account_id = past_due(svc, clock, config(contacts=2500, seats=2))
    (_, owed) = stored.invoices(svc, account_id)
    cy = add_person(svc, account_id, "cy@example.com")
    with pytest.raises(Forbidden):
        standing.pay_invoice(svc, Actor.of_user(cy), owed.id)
    other = sign_up(svc, email="bea@example.com")
    with pytest.raises(Exception) as hidden:
        standing.pay_invoice(svc, admin_of(svc, other.account.id), owed.id)
    assert type(hidden.value).__name__ == "NotFound"


def test_auto_upgrade_buys_nothing_while_past_due(svc, clock) -> None:
    account_id = past_due(svc, clock)
    ada = admin_of(svc, account_id)
    accounts.set_auto_upgrade(svc, ada, account_id, True)
    card = stored.account(svc, account_id).card
    assert card is not None
    charges = len(svc.gateway.charges_for(card.token))

    done = usage.report(svc, Actor(ACCOUNT_KEY, "key:host", account_id), account_id, 3000, 1)

    assert done.auto_upgraded_to is None
    assert stored.subscription(svc, account_id).config.contacts == 2500
    assert len(svc.gateway.charges_for(card.token)) == charges
