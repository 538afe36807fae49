"""Accounts (with their billing details and payment-provider customer) and people (users
and staff) on the transaction's connection."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select

from canone.db import rows
from canone.db.billing_details import BillingDetailsQueries
from canone.db.payment_customers import PaymentCustomerQueries
from canone.db.queries import Prepared, Queries, keyed
from canone.db.tables import accounts, staff, users
from canone.services.records import Account, Staff, User

# The reads of every preview and confirmation, built once (see `Prepared`).
_ACCOUNT = Prepared(keyed(accounts, "id"))
_USERS_OF = Prepared(keyed(users, "account_id", limit=None).order_by(users.c.email))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlAccounts(BillingDetailsQueries, PaymentCustomerQueries):
    def add(self, account: Account) -> None:
        self.insert_new(accounts, rows.account_values(account), f"account {account.id}")

    def get(self, account_id: str, lock: bool = False) -> Account | None:
        row = self.prepared(_ACCOUNT, {"id": account_id}, lock).first()
        return None if row is None else rows.account_of(row)

    def by_ids(self, account_ids: Sequence[str], lock: bool = False
               ) -> dict[str, Account]:
        """Several accounts in one query (missing ones are left out), locked in id order."""
        if not account_ids:
            return {}
        query = (select(accounts).where(self.among(accounts.c.id, account_ids))
                 .order_by(accounts.c.id))
        return {r.id: rows.account_of(r) for r in self.all(self.locked(query, lock))}

    def save(self, account: Account) -> None:
        self.update(accounts, accounts.c.id == account.id, rows.account_values(account),
                    f"account {account.id}")

    def find(self, text: str | None, limit: int, after: str | None) -> list[Account]:
        """Accounts whose name, id or a user's email contains `text`, ordered by id."""
        query = select(accounts)
        if text:
            pattern = _like(text)
            by_email = select(users.c.account_id).where(users.c.email.ilike(pattern, "\\"))
            query = query.where(or_(accounts.c.name.ilike(pattern, "\\"),
                                    accounts.c.id.ilike(pattern, "\\"),
                                    accounts.c.id.in_(by_email)))
        if after is not None:
            query = query.where(accounts.c.id > after)
        return [rows.account_of(r) for r in self.all(query.order_by(accounts.c.id).limit(limit))]


class SqlPeople(Queries):
    def add_user(self, user: User) -> None:
        self.insert_new(users, rows.values(user), f"a user with email {user.email}")

    def get_user(self, user_id: str) -> User | None:
        row = self.first(select(users).where(users.c.id == user_id))
        return None if row is None else rows.user_of(row)

    def user_by_email(self, email: str) -> User | None:
        row = self.first(select(users).where(func.lower(users.c.email) == func.lower(email)))
        return None if row is None else rows.user_of(row)

    def users_of(self, account_id: str) -> list[User]:
        return [rows.user_of(r) for r in self.prepared(_USERS_OF, {"account_id": account_id})]

    def users_of_accounts(self, account_ids: Sequence[str]) -> dict[str, list[User]]:
        """`users_of` for several accounts in one query (an empty list for none)."""
        found: dict[str, list[User]] = {account_id: [] for account_id in account_ids}
        if account_ids:
            query = (select(users).where(self.among(users.c.account_id, account_ids))
                     .order_by(users.c.email))
            for row in self.all(query):
                found[row.account_id].append(rows.user_of(row))
        return found

    def save_user(self, user: User) -> None:
        self.update(users, users.c.id == user.id, rows.values(user), f"user {user.id}")

    def add_staff(self, member: Staff) -> None:
        self.insert_new(staff, rows.values(member), f"staff with email {member.email}")

    def get_staff(self, staff_id: str) -> Staff | None:
        row = self.first(select(staff).where(staff.c.id == staff_id))
        return None if row is None else rows.staff_of(row)

    def staff_by_email(self, email: str) -> Staff | None:
        row = self.first(select(staff).where(func.lower(staff.c.email) == func.lower(email)))
        return None if row is None else rows.staff_of(row)
