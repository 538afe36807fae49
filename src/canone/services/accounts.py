"""Sign-up, people, cards and settings of an account."""

from __future__ import annotations

import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from canone.billing.errors import InvalidField
from canone.services import (
    collection,
    payment_methods,
)
from canone.services.access import (
    Actor,
    load_account,
    require_billing,
    require_primary_admin,
    require_staff,
)
from canone.services.context import (
    Services,
    new_id,
    record_change,
)
from canone.services.errors import NoFreeSeat, existing
from canone.services.passwords import check_new_password
from canone.services.ports import Card, StoredCard
from canone.services.records import (
    ADMIN,
    USER,
    Account,
    User,
)
from canone.services.store import Store

LOCALES = ("en", "it")
# A plain address: no white space or control characters, and none of the characters that
# make a quoted local part or a display name ('"a\\nb"@example.com' is one address to us
# and another to a mail server), which no mailbox of a person needs.
_ADDRESS_CHAR = r'[^@\s"\\(),:;<>\[\]\x00-\x1f\x7f]'
EMAIL = re.compile(rf"{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one of `password_hash`. With no hash (no such person) the
    same argon2 work is done against a stand-in hash, so a wrong password takes as long for
    an unknown email as for a known one: the time of the answer does not tell which
    emails have an account."""
    try:
        return _hasher.verify(password_hash or _stand_in_hash(), password) and (
            password_hash is not None)
    except (VerificationError, InvalidHashError):
        return False


_stand_in: tuple[PasswordHasher, str] | None = None


def _stand_in_hash() -> str:
    """A hash of a random password made by the current hasher (argon2's cost is set by the
    parameters stored in the hash, so it must have the real hashes' parameters)."""
    global _stand_in
    hasher = _hasher
    if _stand_in is None or _stand_in[0] is not hasher:
        _stand_in = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _stand_in[1]


def is_plain_email(email: str) -> bool:
    return EMAIL.fullmatch(email or "") is not None


def check_email(email: str, field: str) -> str:
    if not is_plain_email((email or "").strip()):
        raise InvalidField(field, "must be an email address like name@example.com")
    return email.strip().lower()


def update_card(svc: Services, actor: Actor, account_id: str, card: Card | str) -> Account:
    """Replace the card on file (typed, or with Stripe a payment method id), then collect
    what the account owes with it."""
    with svc.database.read() as store:
        currency = load_account(store, actor, account_id).currency
        require_billing(store, actor, account_id, "update the card")
    payment_methods.check_given(svc, card)
    customer = (payment_methods.customer_of(svc, account_id)
                if isinstance(card, str) else None)
    stored = payment_methods.store(svc, card, customer, currency)
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id, lock=True)
        new = account.but(card=stored)
        store.accounts.save(new)
        record_change(svc, store, account_id=account_id, actor=actor.name,
                      action="account.card_updated", before={"card": _card(account.card)},
                      after={"card": _card(stored)}, event="account.updated")
    collection.collect_account(svc, account_id)  # what it owes, past due or awaiting a retry
    with svc.database.read() as store:
        fresh = existing(store.accounts.get(account_id), f"account {account_id}")
    return fresh


def _card(card: StoredCard | None) -> dict[str, Any] | None:
    return None if card is None else {"brand": card.brand, "last4": card.last4,
                                      "exp": f"{card.exp_month:02d}/{card.exp_year}"}


def set_auto_upgrade(svc: Services, actor: Actor, account_id: str, on: bool) -> Account:
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id, lock=True)
        require_primary_admin(store, actor, account_id, "change auto-upgrade")
        sub = store.subscriptions.of_account(account_id)
        if on and sub is not None and sub.config.contacts is None:
            raise InvalidField("auto_upgrade", "this plan has no contact limit to raise")
        new = account.but(auto_upgrade=on)
        store.accounts.save(new)
        record_change(svc, store, account_id=account_id, actor=actor.name,
                      action="account.auto_upgrade", before={"auto_upgrade": account.auto_upgrade},
                      after={"auto_upgrade": on}, event="account.updated")
        return new


def add_user(svc: Services, actor: Actor, account_id: str, email: str, name: str,
             password: str, role: str = USER, billing: bool = False) -> User:
    if role not in (ADMIN, USER):
        raise InvalidField("role", "allowed: admin, user")
    email = check_email(email, "email")
    check_new_password(password, "password")
    with svc.database.transaction() as store:
        load_account(store, actor, account_id)
        require_primary_admin(store, actor, account_id, "add users")
        if store.people.user_by_email(email) is not None:
            raise InvalidField("email", "is already used")
        _check_free_seat(store, account_id)
        user = User(new_id("usr"), account_id, email, name, role, billing and role == ADMIN,
                    True, hash_password(password))
        store.people.add_user(user)
        record_change(svc, store, account_id=account_id, actor=actor.name, action="user.added",
                      before=None, after={"email": email, "role": role, "billing": user.billing})
        return user


def _check_free_seat(store: Store, account_id: str) -> None:
    """Another active user needs a seat, now and after a scheduled reduction: seats are
    never fewer than active users (the host product may report more than canone counts)."""
    sub = store.subscriptions.of_account(account_id)
    if sub is None:
        return
    seats = min(sub.config.seats, sub.pending.seats if sub.pending else sub.config.seats)
    usage = store.usage.of_account(account_id)
    counted = sum(1 for user in store.people.users_of(account_id) if user.active)
    after = max(counted + 1, usage.active_users if usage else 0)
    if after > seats:
        raise NoFreeSeat(f"every user seat is taken ({after - 1} active users, {seats} "
                         "seats): add a seat on the Billing & Upgrade page first")


def authenticate(svc: Services, email: str, password: str) -> str | None:
    """The principal ("user:<id>" or "staff:<id>") these credentials sign in, or None.
    Exactly one password check is made whoever the email belongs to, if anyone."""
    email = email.strip().lower()
    with svc.database.read() as store:
        user = store.people.user_by_email(email)
        staff = store.people.staff_by_email(email) if user is None else None
    if user is not None:
        ok = password_matches(user.password_hash, password) and user.active
        return f"user:{user.id}" if ok else None
    if password_matches(staff.password_hash if staff else None, password):
        return None if staff is None else f"staff:{staff.id}"
    return None


def find_accounts(svc: Services, actor: Actor, text: str | None, limit: int, after: str | None
                  ) -> list[Account]:
    """Accounts whose name, id or a user's email contains `text` (None: every account), by
    id after the cursor `after`. Staff and operators only."""
    require_staff(actor, "list accounts")
    with svc.database.read() as store:
        return store.accounts.find(text, limit, after)


def account_of(svc: Services, actor: Actor, account_id: str) -> Account:
    with svc.database.read() as store:
        return load_account(store, actor, account_id)
