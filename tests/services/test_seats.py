"""User seats are never fewer than active users, whichever way the services are used:
sign-up, adding people, a scheduled seat reduction, a request applied by support."""

from __future__ import annotations

import pytest

import stored
from canone.billing.errors import InvalidField
from canone.services import quotes, requests
from canone.services.errors import InvalidTransition, NoFreeSeat

from .conftest import SUPPORT, add_person, admin_of, at, config, sign_up


def active_people(svc, account_id: str) -> int:
    with svc.database.read() as store:
        return sum(1 for user in store.people.users_of(account_id) if user.active)


def test_sign_up_has_one_active_user_for_at_least_one_seat(svc) -> None:
    signed = sign_up(svc, config(seats=1))
    assert (signed.subscription.config.seats, active_people(svc, signed.account.id)) == (1, 1)


def test_a_person_is_added_only_into_a_free_seat(svc) -> None:
    signed = sign_up(svc, config(seats=2))
    add_person(svc, signed.account.id, "bea@example.com")

    with pytest.raises(NoFreeSeat) as refused:
        add_person(svc, signed.account.id, "cid@example.com")

    assert refused.value.message == ("every user seat is taken (2 active users, 2 seats): "
                                     "add a seat on the Billing & Upgrade page first")
    assert active_people(svc, signed.account.id) == 2


def test_a_scheduled_seat_reduction_leaves_no_seat_for_another_person(svc) -> None:
    signed = sign_up(svc, config(seats=3))
    ada = admin_of(svc, signed.account.id)
    quote = quotes.preview(svc, ada, signed.account.id, config(seats=1))
    assert quote.change.kind == "scheduled" and quote.token is not None
    quotes.confirm(svc, ada, signed.account.id, quote.token)

    with pytest.raises(NoFreeSeat):
        add_person(svc, signed.account.id, "bea@example.com")


def test_a_seat_reduction_below_active_users_is_refused(svc) -> None:
    signed = sign_up(svc, config(seats=3))
    add_person(svc, signed.account.id, "bea@example.com")
    add_person(svc, signed.account.id, "cid@example.com")

    with pytest.raises(InvalidField) as refused:
        quotes.preview(svc, admin_of(svc, signed.account.id), signed.account.id,
                       config(seats=2))
    assert refused.value.field == "target.seats"


@pytest.mark.parametrize("effective", ["period_end", "now"])
def test_support_cannot_apply_fewer_seats_than_active_users(svc, clock, effective) -> None:
    signed = sign_up(svc, config(seats=3))
    add_person(svc, signed.account.id, "bea@example.com")
    add_person(svc, signed.account.id, "cid@example.com")
    clock.set(at(2026, 4, 16))
    request = requests.create(svc, admin_of(svc, signed.account.id), signed.account.id,
                              config(tier="starter", seats=1), "budget", "Starter, please")
    requests.transition(svc, SUPPORT, request.id, "in_progress")

    with pytest.raises(InvalidTransition) as refused:
        requests.transition(svc, SUPPORT, request.id, "completed", effective)

    assert refused.value.message == (
        "The desired configuration has 1 user seats but the account has 3 active users: "
        "deactivate users first, or keep enough seats.")
    sub = stored.subscription(svc, signed.account.id)
    assert (sub.config.seats, sub.pending) == (3, None)
    assert requests.get(svc, SUPPORT, request.id).status == "in_progress"
