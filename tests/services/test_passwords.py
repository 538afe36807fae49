"""Passwords: the NIST SP 800-63B rules for a new one, and signing in with the same argon2
work whether or not the email belongs to anyone (no user enumeration by timing)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

import stored
from canone.billing.errors import InvalidField
from canone.services import accounts, passwords, signups
from canone.services.records import ADMIN, Staff

from .conftest import GOOD_CARD, admin_of, config, sign_up


def signing_up(svc, password: str) -> signups.SignedUp:  # type: ignore[no-untyped-def]
    return signups.sign_up(svc, signups.SignUp(
        name="Acme", timezone="UTC", locale="en", currency="USD", admin_email="ada@acme.test",
        admin_name="Ada Lovelace", admin_password=password, config=config(),
        card=GOOD_CARD))


REFUSED = [
    ("1234567", "must have at least 8 characters"),
    ("        ", "must not be only spaces"),
    (" \t\n  \u00a0 \u3000", "must not be only spaces"),
    ("12345678", "is too common"),
    ("password", "is too common"),
    ("Password1", "is too common"),  # compared without regard to case
    ("qwertyuiop", "is too common"),
    ("iloveyou", "is too common"),
    ("juventus1", "is too common"),
    ("welcome2026", "is too common"),
    ("zzzzzzzzzzzz", "is too common"),  # one character repeated
    ("x" * 1025, "must have at most 1024 characters"),
]


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_sign_up_refuses_a_weak_password_naming_the_field(svc, password: str,
                                                          message: str) -> None:
    with pytest.raises(InvalidField) as refused:
        signing_up(svc, password)

    assert refused.value.field == "primary_admin.password"
    assert refused.value.message.startswith(message)
    assert stored.count_rows(svc, "accounts") == 0
    assert svc.gateway.total_charged() == 0


@pytest.mark.parametrize("password", ["correct horse", "tr0ub4dor&3x", "8 chars!",
                                      "parola d'ordine lunga", "canone-demo"])
def test_sign_up_accepts_a_long_enough_uncommon_password_without_composition_rules(
        svc, password: str) -> None:
    signed = signing_up(svc, password)

    with svc.database.read() as store:
        [admin] = store.people.users_of(signed.account.id)
    assert accounts.authenticate(svc, "ada@acme.test", password) == f"user:{admin.id}"


def test_adding_a_user_checks_the_password_too(svc) -> None:
    account = sign_up(svc).account
    owner = admin_of(svc, account.id)

    with pytest.raises(InvalidField) as refused:
        accounts.add_user(svc, owner, account.id, "bob@acme.test", "Bob", "abcd1234", ADMIN)

    assert (refused.value.field, refused.value.message[:13]) == ("password", "is too common")
    assert stored.count_rows(svc, "users") == 1


def test_the_common_list_ships_with_canone_and_holds_only_long_enough_entries() -> None:
    common = passwords.common_passwords()

    assert len(common) > 2000
    assert {"password1", "1q2w3e4r", "iloveyou", "passw0rd"} <= common
    assert min(len(p) for p in common) == 8
    assert "canone-demo" not in common  # the demo's password


# -- signing in ---------------------------------------------------------------------------


class CountingHasher(PasswordHasher):
    """The cheap test hasher, counting the argon2 verifications it does."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


def test_a_wrong_password_costs_one_argon2_check_for_known_and_unknown_emails(
        svc, hasher: CountingHasher) -> None:
    sign_up(svc, email="ada@example.com")
    with svc.database.transaction() as store:
        store.people.add_staff(Staff("stf_1", "sam@canone.test", "Sam",
                                     accounts.hash_password("sam's own password")))

    checks = []
    for email in ("ada@example.com", "nobody@example.com", "sam@canone.test",
                  "NOBODY@example.com", ""):
        before = hasher.verified
        assert accounts.authenticate(svc, email, "not the password") is None
        checks.append(hasher.verified - before)

    assert checks == [1, 1, 1, 1, 1]


def test_the_stand_in_hash_costs_as_much_as_a_real_one(svc, hasher: CountingHasher) -> None:
    real = accounts.hash_password("correct horse")
    accounts.authenticate(svc, "nobody@example.com", "x")

    stand_in = accounts._stand_in_hash()
    assert stand_in.split("$")[3] == real.split("$")[3] == "m=8,t=1,p=1"
    assert not accounts.password_matches(None, "")  # no hash never matches, whatever typed


def test_right_passwords_sign_in_people_and_agents_but_not_deactivated_users(
        svc, hasher: CountingHasher) -> None:
    signed = sign_up(svc, email="ada@example.com")
    with svc.database.transaction() as store:
        store.people.add_staff(Staff("stf_1", "sam@canone.test", "Sam",
                                     accounts.hash_password("sam's own password")))
        [admin] = store.people.users_of(signed.account.id)

    assert accounts.authenticate(svc, " ADA@example.com ", "correct horse") == f"user:{admin.id}"
    assert accounts.authenticate(svc, "sam@canone.test", "sam's own password") == "staff:stf_1"
    with svc.database.transaction() as store:
        store.people.save_user(admin.but(active=False))
    assert accounts.authenticate(svc, "ada@example.com", "correct horse") is None
    assert hasher.verified == 3  # the deactivated user's password was checked all the same
