"""Who may do what: billing needs the primary admin or an admin granted billing; cancelling
needs the primary admin; a refusal names whom to ask (SPEC intro, §5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import stored
from canone.services import accounts, credit_notes, quotes, requests, subscriptions, usage
from canone.services import invoices as invoice_reads
from canone.services.access import EMAIL, Actor
from canone.services.documents import REFUND, CreditNoteLine
from canone.services.errors import Forbidden, NotFound

from .conftest import SUPPORT, add_person, admin_of, at, config, sign_up

ASK = "Ada Lovelace (ada@example.com)"


@pytest.fixture
def signed(svc):  # type: ignore[no-untyped-def]
    """Ada's account with a second seat, for the person a test adds."""
    return sign_up(svc, config(seats=2))


@pytest.mark.parametrize(("role", "billing"), [("user", False), ("admin", False),
                                               ("user", True)])
def test_people_without_billing_are_refused_and_told_whom_to_ask(svc, signed, role,
                                                                 billing) -> None:
    person = Actor.of_user(add_person(svc, signed.account.id, "eve@example.com", role, billing))

    for attempt in (
        lambda: quotes.preview(svc, person, signed.account.id, config(tier="pro")),
        lambda: subscriptions.drop_pending(svc, person, signed.account.id),
        lambda: accounts.update_card(svc, person, signed.account.id, accounts.Card(
            "4242424242424242", 12, 2035, "123")),
        lambda: requests.create(svc, person, signed.account.id, None, "", "please"),
    ):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert refused.value.primary_admin == ASK
        assert ASK in str(refused.value)
    assert stored.subscription(svc, signed.account.id).config == config(seats=2)


def test_an_admin_with_billing_may_change_the_plan(svc, clock, signed) -> None:
    bea = Actor.of_user(add_person(svc, signed.account.id, "bea@example.com", "admin", True))
    clock.set(at(2026, 4, 16))

    quote = quotes.preview(svc, bea, signed.account.id, config(tier="enterprise", seats=2))
    done = quotes.confirm(svc, bea, signed.account.id, quote.token)

    # 15 of 30 days: −24.50 + 72.50 for the base, −9.50 for the extra seat (enterprise
    # includes five).
    assert quote.change.due_now == Decimal("38.50") and done.invoice.total == 3850
    assert stored.subscription(svc, signed.account.id).config.tier == "enterprise"


def test_only_the_primary_admin_cancels(svc, signed) -> None:
    bea = Actor.of_user(add_person(svc, signed.account.id, "bea@example.com", "admin", True))

    with pytest.raises(Forbidden) as refused:
        subscriptions.set_cancellation(svc, bea, signed.account.id, True)
    assert refused.value.primary_admin == ASK
    assert "Only the primary admin" in str(refused.value)
    assert not stored.subscription(svc, signed.account.id).cancel_at_period_end

    subscriptions.set_cancellation(svc, admin_of(svc, signed.account.id), signed.account.id,
                                   True)
    assert stored.subscription(svc, signed.account.id).cancel_at_period_end


def test_an_unverified_email_cannot_change_billing(svc, signed) -> None:
    mail = Actor(EMAIL, "email:ada@example.com", signed.account.id)

    with pytest.raises(Forbidden):
        quotes.preview(svc, mail, signed.account.id, config(tier="pro"))
    with pytest.raises(Forbidden):
        subscriptions.set_cancellation(svc, mail, signed.account.id, True)


def test_people_of_another_account_see_nothing(svc, signed) -> None:
    other = sign_up(svc, email="bob@example.com")
    bob = admin_of(svc, other.account.id)

    with pytest.raises(NotFound):
        quotes.preview(svc, bob, signed.account.id, config(tier="pro"))
    with pytest.raises(NotFound):
        usage.entitlements(svc, bob, signed.account.id)


def test_a_page_cursor_of_another_account_is_not_found(svc, signed) -> None:
    """A page starts after one of the account's own documents: another account's invoice or
    credit note as the cursor is as unknown as a made-up id (ids don't leak)."""
    bob_id = sign_up(svc, email="bob@example.com").account.id
    bobs_invoice = stored.invoices(svc, bob_id)[0]
    with svc.database.transaction() as store:
        note = credit_notes.issue_credit_note(
            svc, store, bobs_invoice, [CreditNoteLine("refund", "Refund", 500)], REFUND)
    mine = signed.account.id

    with pytest.raises(NotFound, match=f"^no invoice {bobs_invoice.id} on account {mine}$"):
        invoice_reads.invoices_of(svc, SUPPORT, mine, after=bobs_invoice.id)
    with pytest.raises(NotFound, match=f"^no credit note {note.id} on account {mine}$"):
        credit_notes.credit_notes_of(svc, SUPPORT, mine, after=note.id)
    with pytest.raises(NotFound, match=f"^no credit note {note.id} on account {mine}$"):
        credit_notes.credit_note(svc, SUPPORT, mine, note.id)
    # On its own account the same cursors start a page (here, an empty one).
    assert invoice_reads.invoices_of(svc, SUPPORT, bob_id, after=bobs_invoice.id) == []
    assert credit_notes.credit_notes_of(svc, SUPPORT, bob_id, after=note.id) == []
    assert credit_notes.credit_note(svc, SUPPORT, bob_id, note.id) == note


def test_a_deactivated_admin_loses_billing(svc, signed) -> None:
    bea = add_person(svc, signed.account.id, "bea@example.com", "admin", True)
    with svc.database.transaction() as store:
        store.people.save_user(bea.but(active=False))

    with pytest.raises(Forbidden):
        quotes.preview(svc, Actor.of_user(bea.but(active=False)), signed.account.id,
                       config(tier="pro"))
