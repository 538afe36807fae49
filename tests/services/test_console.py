"""The support console's reads (services.console) and the account search: staff only, and
what each returns for a signed-up account (SPEC §5, §6)."""

from __future__ import annotations

import pytest

from canone.services import accounts, console, quotes, requests
from canone.services.errors import Forbidden, NotFound

from .conftest import SUPPORT, add_person, admin_of, config, sign_up


def test_people_of_an_account_cannot_use_the_console_services(svc) -> None:
    signed = sign_up(svc)
    ada = admin_of(svc, signed.account.id)
    asked = requests.create(svc, ada, signed.account.id, None, "other", "more seats, please")

    for attempt in (
        lambda: console.accounts_of(svc, ada, [signed.account.id]),
        lambda: console.request_account(svc, ada, asked.id),
        lambda: console.find_accounts(svc, ada, "", None),
        lambda: console.account_view(svc, ada, signed.account.id),
        lambda: accounts.find_accounts(svc, ada, None, 10, None),
    ):
        with pytest.raises(Forbidden):
            attempt()


def test_support_finds_an_account_and_sees_everything_about_it(svc) -> None:
    signed = sign_up(svc, email="ada@shop.example")
    other = sign_up(svc, email="bob@elsewhere.example")

    found, more = console.find_accounts(svc, SUPPORT, "  shop.example ", None)
    assert [(a.id, s.id if s else None) for a, s in found] == [
        (signed.account.id, signed.subscription.id)]
    assert more is None
    assert {a.id for a in accounts.find_accounts(svc, SUPPORT, None, 10, None)} == {
        signed.account.id, other.account.id}

    view = console.account_view(svc, SUPPORT, signed.account.id)
    assert [u.email for u in view.users] == ["ada@shop.example"]
    assert view.subscription == signed.subscription
    assert view.current is not None and view.pending is None
    assert [i.id for i in view.invoices] == [signed.invoice.id]
    assert view.balance == 0
    assert view.requests == [] and view.billing is None
    assert not view.card_country_mismatch
    with pytest.raises(NotFound):
        console.account_view(svc, SUPPORT, "acc_missing")


def test_support_sees_the_account_behind_a_request(svc) -> None:
    signed = sign_up(svc)
    ada = admin_of(svc, signed.account.id)
    asked = requests.create(svc, ada, signed.account.id, None, "other", "more seats, please")

    behind = console.request_account(svc, SUPPORT, asked.id)
    assert (behind.request, behind.account, behind.subscription) == (
        asked, signed.account, signed.subscription)
    assert (behind.balance, behind.credited) == (0, None)
    assert console.accounts_of(svc, SUPPORT, [signed.account.id, "acc_missing"]) == {
        signed.account.id: signed.account, "acc_missing": None}


def test_seats_in_use_counts_active_people_and_the_plans_limit(svc) -> None:
    capped = sign_up(svc, config(tier="starter", seats=2))
    add_person(svc, capped.account.id, "eve@example.com")
    uncapped = sign_up(svc, config(tier="plus"), email="bob@example.com")

    assert quotes.seats_in_use(svc, admin_of(svc, capped.account.id), capped.account.id
                               ) == (2, 3)
    assert quotes.seats_in_use(svc, admin_of(svc, uncapped.account.id), uncapped.account.id
                               ) == (1, None)
    with pytest.raises(NotFound):  # another account's people see nothing of it
        quotes.seats_in_use(svc, admin_of(svc, uncapped.account.id), capped.account.id)
