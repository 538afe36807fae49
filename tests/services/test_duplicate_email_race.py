"""Adding a person whose e-mail address another write takes between the service's check
and its insert: the database's unique index refuses it, and the service says Conflict (a
409 problem), not a crash."""

from __future__ import annotations

from typing import Any

import pytest

from canone.services import accounts
from canone.services.context import Services
from canone.services.errors import Conflict
from canone.services.records import User
from canone.services.store import Store
from canone.web.problems import problem_for

from .conftest import admin_of, config, sign_up


def test_an_email_taken_after_the_check_is_a_conflict(
        svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    ada = sign_up(svc, config(seats=2))
    bob = sign_up(svc, email="bob@example.com")
    check_free_seat = accounts._check_free_seat

    def racing_sign_up(store: Store, account_id: str) -> None:
        """The seat check runs after the address check: a concurrent write lands here."""
        check_free_seat(store, account_id)
        store.people.add_user(User("usr_racer", bob.account.id, "carla@example.com", "Carla",
                                   "user", False, True, accounts.hash_password("carla's own")))

    monkeypatch.setattr(accounts, "_check_free_seat", racing_sign_up)
    with pytest.raises(Conflict) as raised:
        accounts.add_user(svc, admin_of(svc, ada.account.id), ada.account.id,
                          "Carla@Example.com", "Carla", "long enough password")

    response = problem_for(raised.value)
    body: Any = response.body
    assert response.status_code == 409
    assert body.decode() == (
        '{"type":"urn:canone:problem:conflict","title":"This conflicts with something that '
        'already exists","status":409,"detail":"a user with email carla@example.com already '
        'exists"}')
    with svc.database.read() as store:  # nothing of the refused insert stays
        assert [u.email for u in store.people.users_of(ada.account.id)] == ["ada@example.com"]
