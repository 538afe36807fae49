"""The repositories of the in-memory store (tests/memory_store.py), part one: accounts,
people, subscriptions, invoices, payments and the ledger (part two: memory_edges.py).
Orders, filters and unique keys are those of the ports (canone/services/repositories.py)
and of the SQL adapter."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date, datetime
from typing import Any

from canone.services.errors import Conflict
from canone.services.records import (
    CANCELLED,
    Account,
    AccountBillingDetails,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentIntent,
    Staff,
    Subscription,
    User,
)
from memory_edges import Table, insert, insert_all, page, put, put_all, replace_row, taken


class MemoryAccounts(Table):
    def add(self, account: Account) -> None:
        insert(self.t.accounts, account.id, account, f"account {account.id}")

    def get(self, account_id: str, lock: bool = False) -> Account | None:
        return self.t.accounts.get(account_id)

    def by_ids(self, account_ids: Sequence[str], lock: bool = False) -> dict[str, Account]:
        return {i: self.t.accounts[i] for i in sorted(set(account_ids)) if i in self.t.accounts}

    def save(self, account: Account) -> None:
        replace_row(self.t.accounts, account.id, account, f"account {account.id}")

    def find(self, text: str | None, limit: int, after: str | None) -> list[Account]:
        found = sorted(self.t.accounts.values(), key=lambda a: a.id)
        if text:
            needle = text.lower()
            by_email = {u.account_id for u in self.t.users.values()
                        if needle in u.email.lower()}
            found = [a for a in found if needle in a.name.lower() or needle in a.id.lower()
                     or a.id in by_email]
        return [a for a in found if after is None or a.id > after][:limit]

    def billing_details_of(self, account_id: str, lock: bool = False
                           ) -> AccountBillingDetails | None:
        return self.t.billing_details.get(account_id)

    def billing_details_by_ids(self, account_ids: Sequence[str]
                               ) -> dict[str, AccountBillingDetails]:
        return {i: self.t.billing_details[i] for i in account_ids
                if i in self.t.billing_details}

    def save_billing_details(self, saved: AccountBillingDetails) -> None:
        put(self.t.billing_details, saved.account_id, saved)

    def payment_customer_of(self, account_id: str) -> str | None:
        return self.t.payment_customers.get(account_id)

    def save_payment_customer(self, account_id: str, customer_id: str) -> None:
        self.t.payment_customers.setdefault(account_id, customer_id)

    def account_with_card(self, token: str) -> str | None:
        return next((account.id for account in self.t.accounts.values()
                     if account.card is not None and account.card.token == token), None)

    def account_of_payment_customer(self, customer_id: str) -> str | None:
        return next((account for account, customer in self.t.payment_customers.items()
                     if customer == customer_id), None)


class MemoryPeople(Table):
    def add_user(self, user: User) -> None:
        if taken((u.email.lower() for u in self.t.users.values()), [user.email.lower()]):
            raise Conflict(f"a user with email {user.email} already exists")
        insert(self.t.users, user.id, user, f"a user with email {user.email}")

    def get_user(self, user_id: str) -> User | None:
        return self.t.users.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.t.users.values() if u.email.lower() == email.lower()),
                    None)

    def users_of(self, account_id: str) -> list[User]:
        return sorted((u for u in self.t.users.values() if u.account_id == account_id),
                      key=lambda u: u.email)

    def users_of_accounts(self, account_ids: Sequence[str]) -> dict[str, list[User]]:
        return {account_id: self.users_of(account_id) for account_id in account_ids}

    def save_user(self, user: User) -> None:
        others = [u for u in self.t.users.values() if u.id != user.id]
        if taken((u.email.lower() for u in others), [user.email.lower()]):
            raise Conflict(f"a user with email {user.email} already exists")
        replace_row(self.t.users, user.id, user, f"user {user.id}")

    def add_staff(self, member: Staff) -> None:
        if taken((s.email.lower() for s in self.t.staff.values()), [member.email.lower()]):
            raise Conflict(f"staff with email {member.email} already exists")
        insert(self.t.staff, member.id, member, f"staff with email {member.email}")

    def get_staff(self, staff_id: str) -> Staff | None:
        return self.t.staff.get(staff_id)

    def staff_by_email(self, email: str) -> Staff | None:
        return next((s for s in self.t.staff.values() if s.email.lower() == email.lower()),
                    None)


class MemorySubscriptions(Table):
    def add(self, subscription: Subscription) -> None:
        if taken((s.account_id for s in self.t.subscriptions.values()),
                 [subscription.account_id]):
            raise Conflict(f"a subscription of account {subscription.account_id} already "
                           "exists")
        insert(self.t.subscriptions, subscription.id, subscription,
               f"a subscription of account {subscription.account_id}")

    def of_account(self, account_id: str, lock: bool = False) -> Subscription | None:
        return next((s for s in self.t.subscriptions.values() if s.account_id == account_id),
                    None)

    def save(self, subscription: Subscription) -> None:
        replace_row(self.t.subscriptions, subscription.id, subscription,
                    f"subscription {subscription.id}")

    def save_many(self, subscriptions: Sequence[Subscription]) -> None:
        _all_exist(self.t.subscriptions, [s.id for s in subscriptions], "subscriptions")
        for subscription in subscriptions:
            self.save(subscription)

    def claim_due(self, until: datetime, limit: int, skip: Sequence[str] = ()
                  ) -> list[Subscription]:
        due = [s for s in self.t.subscriptions.values()
               if s.renews_at <= until and s.status != CANCELLED and s.id not in skip]
        return sorted(due, key=lambda s: (s.renews_at, s.id))[:limit]


def _all_exist(table: dict[str, Any], keys: Sequence[str], what: str) -> None:
    missing = [key for key in keys if key not in table]
    if missing:
        raise LookupError(f"{len(missing)} of the {what} do not exist")


def _renewal_key(invoice: Invoice) -> Hashable:
    # Unique among renewal invoices only (a partial index); others get a key of their own.
    if invoice.kind == "renewal":
        return (invoice.subscription_id, invoice.period_start)
    return ("not a renewal", invoice.id)


class MemoryInvoices(Table):
    def next_number(self, year: int) -> str:
        return self.next_numbers(year, 1)[0]

    def next_number_with_progressive(self, year: int) -> tuple[str, int]:
        progressive = self.t.document_counters["sdi"] = self.t.document_counters.get("sdi", 0) + 1
        return self.next_number(year), progressive

    def next_numbers(self, year: int, count: int) -> list[str]:
        last = self.t.invoice_counters.get(year, 0) + count
        self.t.invoice_counters[year] = last
        return [f"{year}-{n:06d}" for n in range(last - count + 1, last + 1)]

    def add(self, invoice: Invoice) -> None:
        what = (f"a {invoice.kind} invoice for subscription {invoice.subscription_id} from "
                f"{invoice.period_start}" if invoice.kind == "renewal"
                else f"invoice {invoice.id} or number {invoice.number}")
        self._check(what, [invoice])
        put(self.t.invoices, invoice.id, invoice)

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        self._check(f"one of {len(invoices)} invoices", invoices)
        for invoice in invoices:
            put(self.t.invoices, invoice.id, invoice)

    def _check(self, what: str, added: Sequence[Invoice]) -> None:
        stored = self.t.invoices.values()
        if any(taken(map(key, stored), map(key, added)) for key in (
                lambda i: i.id, lambda i: i.number, _renewal_key)):
            raise Conflict(f"{what} already exists")

    def get(self, invoice_id: str) -> Invoice | None:
        return self.t.invoices.get(invoice_id)

    def by_ids(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        return {i: self.t.invoices[i] for i in invoice_ids if i in self.t.invoices}

    def save(self, invoice: Invoice) -> None:
        stored = self.t.invoices.get(invoice.id)
        if stored is None:
            raise LookupError(f"invoice {invoice.id} does not exist")
        # Only its payment state changes, never its lines or total (as in SQL).
        put(self.t.invoices, invoice.id, stored.but(
            status=invoice.status, credit_applied=invoice.credit_applied,
            amount_paid=invoice.amount_paid, attempts=invoice.attempts,
            next_attempt_at=invoice.next_attempt_at))

    def save_many(self, invoices: Sequence[Invoice]) -> None:
        _all_exist(self.t.invoices, [i.id for i in invoices], "invoices")
        for invoice in invoices:
            self.save(invoice)

    def of_account(self, account_id: str, limit: int, after: str | None) -> list[Invoice]:
        mine = [i for i in self.t.invoices.values() if i.account_id == account_id]
        return page(mine, self.t.invoices, lambda i: i.issued_at, after, True)[:limit]

    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        return any(i.kind == "renewal" and i.subscription_id == subscription_id
                   and i.period_start == period_start for i in self.t.invoices.values())

    def to_collect(self, now: datetime, limit: int, account_id: str | None = None
                   ) -> list[Invoice]:
        due = [i for i in self.t.invoices.values()
               if i.status == "open" and i.next_attempt_at is not None
               and i.next_attempt_at <= now and account_id in (None, i.account_id)]
        return sorted(due, key=lambda i: (i.next_attempt_at, i.id))[:limit]

    def disputed(self, limit: int) -> list[Invoice]:
        found = [i for i in self.t.invoices.values() if i.status == "disputed"]
        return sorted(found, key=lambda i: (i.issued_at, i.id), reverse=True)[:limit]


class MemoryPayments(Table):
    def add(self, payment: Payment) -> None:
        insert(self.t.payments, payment.id, payment, f"payment {payment.id}")

    def add_many(self, payments: Sequence[Payment]) -> None:
        insert_all(self.t.payments, [(p.id, p) for p in payments], "payments")

    def of_account(self, account_id: str) -> list[Payment]:
        return sorted((p for p in self.t.payments.values() if p.account_id == account_id),
                      key=lambda p: (p.created_at, p.id))

    def add_intent(self, intent: PaymentIntent) -> None:
        insert(self.t.intents, intent.key, intent, f"payment intent {intent.key}")

    def add_intents(self, intents: Sequence[PaymentIntent]) -> None:
        insert_all(self.t.intents, [(i.key, i) for i in intents], "payment intents")

    def get_intent(self, key: str, lock: bool = False) -> PaymentIntent | None:
        return self.t.intents.get(key)

    def intents_by_key(self, keys: Sequence[str], lock: bool = False
                       ) -> dict[str, PaymentIntent]:
        return {k: self.t.intents[k] for k in sorted(set(keys)) if k in self.t.intents}

    def save_intent(self, intent: PaymentIntent) -> None:
        replace_row(self.t.intents, intent.key, intent, f"payment intent {intent.key}")

    def save_intents(self, intents: Sequence[PaymentIntent]) -> None:
        _all_exist(self.t.intents, [i.key for i in intents], "payment intents")
        put_all(self.t.intents, ((i.key, i) for i in intents))

    def save_provider_ids(self, opened: Sequence[tuple[str, str]]) -> None:
        _all_exist(self.t.intents, [key for key, _ in opened], "payment intents")
        for key, provider_id in opened:
            put(self.t.intents, key, self.t.intents[key].but(provider_id=provider_id))

    def save_outcomes(self, intents: Sequence[PaymentIntent]) -> None:
        _all_exist(self.t.intents, [i.key for i in intents], "payment intents")
        for i in intents:  # only what settling changes (as in SQL)
            put(self.t.intents, i.key, self.t.intents[i.key].but(status=i.status,
                                                                 result=i.result))

    def pending_intents(self, created_before: datetime, limit: int) -> list[PaymentIntent]:
        pending = [i for i in self.t.intents.values()
                   if i.status == "pending" and i.created_at < created_before]
        return sorted(pending, key=lambda i: (i.created_at, i.key))[:limit]

    def unrefunded_stale(self, created_after: datetime, limit: int) -> list[PaymentIntent]:
        paid = {p.idempotency_key for p in self.t.payments.values() if p.invoice_id and (
            invoice := self.t.invoices.get(p.invoice_id)) and invoice.status == "paid"}
        found = [i for i in self.t.intents.values()
                 if i.status == "succeeded" and i.created_at > created_after
                 and i.purpose == "change" and (i.result or {}).get("credited") is True
                 and i.key in paid]
        return sorted(found, key=lambda i: (i.created_at, i.key))[:limit]

    def pending_intent_of(self, account_id: str) -> PaymentIntent | None:
        pending = [i for i in self.t.intents.values()
                   if i.status == "pending" and i.account_id == account_id]
        return max(pending, key=lambda i: (i.created_at, i.key), default=None)

    def lock_signups_of(self, email: str) -> None:
        """One transaction at a time: nothing to lock."""

    def pending_signups_of(self, email: str) -> list[PaymentIntent]:
        return [i for i in self.t.intents.values() if i.status == "pending"
                and i.purpose == "signup" and i.payload.get("email") == email]


class MemoryLedger(Table):
    def add(self, entry: LedgerEntry) -> None:
        insert(self.t.ledger, entry.id, entry, f"ledger entry {entry.id}")

    def add_many(self, entries: Sequence[LedgerEntry]) -> None:
        insert_all(self.t.ledger, [(e.id, e) for e in entries], "ledger entries")

    def of_account(self, account_id: str) -> list[LedgerEntry]:
        # By time, then in the order written (`seq`): sorted() keeps that order for ties.
        return sorted((e for e in self.t.ledger.values() if e.account_id == account_id),
                      key=lambda e: e.created_at)

    def balance_of(self, account_id: str) -> int:
        return sum(e.amount for e in self.t.ledger.values() if e.account_id == account_id)

    def balances_of(self, account_ids: Sequence[str]) -> dict[str, int]:
        return {account_id: self.balance_of(account_id) for account_id in account_ids}
