"""Who may do what (SPEC intro, §5): enforced here, not only in the web layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from canone.services.errors import Forbidden, NotFound, OwnedRecord, on_account
from canone.services.records import ADMIN, PRIMARY_ADMIN, Account, User
from canone.services.store import Store

USER = "user"  # a person signed in to an account
STAFF = "staff"  # a support agent
OPERATOR = "operator"  # an operator API key: every account, staff actions
ACCOUNT_KEY = "account_key"  # the host application's key for one account
SYSTEM = "system"  # canone itself (renewals, auto-upgrade)
EMAIL = "email"  # an inbound email from a primary admin's address (not verified)


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str  # as written in the audit trail, e.g. "user:ada@example.com"
    account_id: str | None = None  # the one account a user or account key belongs to
    user: User | None = None

    @classmethod
    def of_user(cls, user: User) -> Actor:
        return cls(USER, f"user:{user.email}", user.account_id, user)

    @property
    def is_staff(self) -> bool:
        return self.kind in (STAFF, OPERATOR, SYSTEM)


SYSTEM_ACTOR = Actor(SYSTEM, "system")


def load_account(store: Store, actor: Actor, account_id: str, lock: bool = False) -> Account:
    """The account, if the actor may see it at all (NotFound otherwise, so ids don't leak)."""
    if actor.account_id is not None and actor.account_id != account_id:
        raise NotFound(f"no account {account_id}")
    account = store.accounts.get(account_id, lock=lock)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account


def primary_admin_of(store: Store, account_id: str) -> User | None:
    return next((u for u in store.people.users_of(account_id) if u.role == PRIMARY_ADMIN), None)


def _refuse(store: Store, account_id: str, what: str) -> Forbidden:
    admin = primary_admin_of(store, account_id)
    who = f"{admin.name} ({admin.email})" if admin else "the account's primary admin"
    return Forbidden(f"Only the primary admin or an admin with billing permission can "
                     f"{what}. Ask {who}.", primary_admin=who)


def require_billing(store: Store, actor: Actor, account_id: str, what: str) -> None:
    """Billing pages and actions: the primary admin, or an admin granted billing."""
    if actor.kind != USER:
        if actor.kind == EMAIL:
            raise Forbidden("an unverified email cannot change billing")
        return
    user = actor.user
    if user is None or not user.active or not (
        user.role == PRIMARY_ADMIN or (user.role == ADMIN and user.billing)
    ):
        raise _refuse(store, account_id, what)


def billing_account(store: Store, actor: Actor, account_id: str, what: str) -> Account:
    """The account, if the actor may see it (`load_account`) and its money
    (`require_billing`): the guard of every read of invoices and credit notes."""
    account = load_account(store, actor, account_id)
    require_billing(store, actor, account_id, what)
    return account


def billing_page_after(store: Store, actor: Actor, account_id: str, noun: str,
                       after: str | None, get: Callable[[str], OwnedRecord | None]) -> None:
    """The guard of a page of the account's `noun`s (invoices, credit notes): the actor may
    see them (`billing_account`), and the page's `after` cursor, if any, is one of them."""
    billing_account(store, actor, account_id, f"see {noun}s")
    if after is not None:
        on_account(get(after), account_id, f"no {noun} {after} on account {account_id}")


def require_primary_admin(store: Store, actor: Actor, account_id: str, what: str) -> None:
    if actor.kind == USER and (actor.user is None or actor.user.role != PRIMARY_ADMIN):
        admin = primary_admin_of(store, account_id)
        who = f"{admin.name} ({admin.email})" if admin else "the account's primary admin"
        raise Forbidden(f"Only the primary admin can {what}. Ask {who}.", primary_admin=who)
    if actor.kind in (EMAIL,):
        raise Forbidden(f"an unverified email cannot {what}")


def require_staff(actor: Actor, what: str) -> None:
    if not actor.is_staff:
        raise Forbidden(f"Only support staff can {what}.")
