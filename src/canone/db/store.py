"""`SqlStore`: the `Store` port on one SQLAlchemy connection inside one transaction.

Reads that return several records with children (invoice lines, request history) fetch the
children in one IN () query. Lists are ordered as the port says; paginated lists take the
id of the last row seen as `after`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from canone.db import rows
from canone.db.billing_details import BillingDetailsQueries
from canone.db.documents import DocumentQueries
from canone.db.edges import EdgeQueries
from canone.db.payment_customers import PaymentCustomerQueries
from canone.db.queries import Prepared, keyed, page
from canone.db.tables import (
    accounts,
    audit_entries,
    change_request_events,
    change_requests,
    invoice_counters,
    invoice_lines,
    invoices,
    ledger_entries,
    payment_intents,
    payments,
    staff,
    subscriptions,
    usage,
    usage_thresholds,
    users,
)
from canone.services.errors import Conflict
from canone.services.records import (
    CANCELLED,
    Account,
    AuditEntry,
    ChangeRequest,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentIntent,
    Staff,
    Subscription,
    Usage,
    User,
)

# The reads of every preview and confirmation, built once (see `Prepared`).
_ACCOUNT = Prepared(keyed(accounts, "id"))
_SUBSCRIPTION_OF = Prepared(keyed(subscriptions, "account_id"))
_INTENT = Prepared(keyed(payment_intents, "key"))
_PENDING_INTENT_OF = Prepared(
    keyed(payment_intents, "account_id", limit=None)
    .where(payment_intents.c.status == "pending")
    .order_by(payment_intents.c.created_at.desc(), payment_intents.c.key.desc()).limit(1))
_USAGE_OF = Prepared(keyed(usage, "account_id"))
_USERS_OF = Prepared(keyed(users, "account_id", limit=None).order_by(users.c.email))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlStore(EdgeQueries, BillingDetailsQueries, PaymentCustomerQueries, DocumentQueries):
    # -- accounts, users, staff ------------------------------------------------------

    def add_account(self, account: Account) -> None:
        self.insert_new(accounts, rows.account_values(account), f"account {account.id}")

    def get_account(self, account_id: str, lock: bool = False) -> Account | None:
        row = self.prepared(_ACCOUNT, {"id": account_id}, lock).first()
        return None if row is None else rows.account_of(row)

    def accounts_by_id(self, account_ids: Sequence[str], lock: bool = False
                       ) -> dict[str, Account]:
        """Several accounts in one query (missing ones are left out), locked in id order."""
        if not account_ids:
            return {}
        query = (select(accounts).where(self.among(accounts.c.id, account_ids))
                 .order_by(accounts.c.id))
        return {r.id: rows.account_of(r) for r in self.all(self.locked(query, lock))}

    def save_account(self, account: Account) -> None:
        self.update(accounts, accounts.c.id == account.id, rows.account_values(account),
                    f"account {account.id}")

    def find_accounts(self, text: str | None, limit: int, after: str | None) -> list[Account]:
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

    # -- subscriptions ---------------------------------------------------------------

    def add_subscription(self, subscription: Subscription) -> None:
        self.insert_new(subscriptions, rows.subscription_values(subscription),
                        f"a subscription of account {subscription.account_id}")

    def subscription_of(self, account_id: str, lock: bool = False) -> Subscription | None:
        row = self.prepared(_SUBSCRIPTION_OF, {"account_id": account_id}, lock).first()
        return None if row is None else rows.subscription_of(row)

    def save_subscription(self, subscription: Subscription) -> None:
        self.update_by_key(subscriptions, "id", subscription.id,
                           rows.subscription_values(subscription),
                           f"subscription {subscription.id}")

    def save_subscriptions(self, saved: Sequence[Subscription]) -> None:
        """`save_subscription` for several, in one executemany."""
        self._update_many(subscriptions, subscriptions.c.id,
                          [(s.id, rows.subscription_values(s)) for s in saved], "subscriptions")

    def _update_many(self, table: Any, key: Any, changes: Sequence[tuple[str, dict[str, Any]]],
                     what: str) -> None:
        """Update existing rows by key, one executemany; a missing row is a LookupError."""
        if not changes:
            return
        statement = update(table).where(key == bindparam("saved_key"))
        changed = self.connection.execute(
            statement, [{**values, "saved_key": k} for k, values in changes]).rowcount
        if changed != len(changes):
            raise LookupError(f"{len(changes) - changed} of the {what} do not exist")

    def claim_due(self, until: datetime, limit: int, skip: Sequence[str] = ()
                  ) -> list[Subscription]:
        c = subscriptions.c
        query = (select(subscriptions).where(c.renews_at <= until, c.status != CANCELLED)
                 .order_by(c.renews_at, c.id).limit(limit))
        if skip:
            query = query.where(c.id.not_in(list(skip)))
        return [rows.subscription_of(r) for r in self.all(self.claimed(query))]

    # -- invoices --------------------------------------------------------------------

    def next_invoice_number(self, year: int) -> str:
        return self.next_invoice_numbers(year, 1)[0]

    def next_invoice_numbers(self, year: int, count: int) -> list[str]:
        """`count` consecutive numbers in one statement (beyond the port: for batches).
        The counter row stays locked until the transaction ends, so concurrent writers
        take turns: take numbers as late in a transaction as possible."""
        counter = invoice_counters.c
        bump = (self.upsert(invoice_counters).values(year=year, last=count)
                .on_conflict_do_update(index_elements=[counter.year],
                                       set_={"last": counter.last + count})
                .returning(counter.last))
        last = self.connection.execute(bump).scalar_one()
        return [f"{year}-{n:06d}" for n in range(last - count + 1, last + 1)]

    def add_invoice(self, invoice: Invoice) -> None:
        what = (f"a {invoice.kind} invoice for subscription {invoice.subscription_id} from "
                f"{invoice.period_start}" if invoice.kind == "renewal"
                else f"invoice {invoice.id} or number {invoice.number}")
        self.insert_new(invoices, rows.invoice_values(invoice), what)
        self.insert_all(invoice_lines, rows.line_values(invoice))

    def add_invoices(self, added: Sequence[Invoice]) -> None:
        """`add_invoice` for several, one statement per table. A taken key raises
        `Conflict` and leaves the transaction to be rolled back."""
        try:
            self.insert_all(invoices, [rows.invoice_values(i) for i in added])
        except IntegrityError as exc:
            raise Conflict(f"one of {len(added)} invoices already exists") from exc
        self.insert_all(invoice_lines, [line for i in added for line in rows.line_values(i)])

    def invoices_by_id(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        """Several invoices with their lines, in two queries."""
        if not invoice_ids:
            return {}
        query = select(invoices).where(self.among(invoices.c.id, invoice_ids))
        return {invoice.id: invoice for invoice in self._with_lines(self.all(query))}

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        found = self._with_lines(self.all(select(invoices).where(invoices.c.id == invoice_id)))
        return found[0] if found else None

    def save_invoice(self, invoice: Invoice) -> None:
        self.update(invoices, invoices.c.id == invoice.id, _invoice_changes(invoice),
                    f"invoice {invoice.id}")

    def save_invoices(self, saved: Sequence[Invoice]) -> None:
        """`save_invoice` for several, in one executemany."""
        self._update_many(invoices, invoices.c.id,
                          [(i.id, _invoice_changes(i)) for i in saved], "invoices")

    def invoices_of(self, account_id: str, limit: int, after: str | None) -> list[Invoice]:
        """Newest first."""
        past, by = page(invoices, invoices.c.issued_at, after, newest_first=True)
        query = (select(invoices).where(invoices.c.account_id == account_id, past)
                 .order_by(*by).limit(limit))
        return self._with_lines(self.all(query))

    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        c = invoices.c
        query = select(c.id).where(c.subscription_id == subscription_id,
                                   c.period_start == period_start, c.kind == "renewal")
        return self.first(query) is not None

    def invoices_to_collect(self, now: datetime, limit: int, account_id: str | None = None
                            ) -> list[Invoice]:
        c = invoices.c
        query = (select(invoices).where(c.status == "open", c.next_attempt_at <= now)
                 .order_by(c.next_attempt_at, c.id).limit(limit))
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        return self._with_lines(self.all(self.claimed(query)))

    def _with_lines(self, found: Sequence[Row[Any]]) -> list[Invoice]:
        if not found:
            return []
        lines: dict[str, list[Row[Any]]] = defaultdict(list)
        c = invoice_lines.c
        query = (select(invoice_lines).where(self.among(c.invoice_id, [r.id for r in found]))
                 .order_by(c.invoice_id, c.position))
        for line in self.all(query):
            lines[line.invoice_id].append(line)
        return [rows.invoice_of(r, lines[r.id]) for r in found]

    # -- payments, intents, ledger ---------------------------------------------------

    def add_payment(self, payment: Payment) -> None:
        self.insert_new(payments, rows.values(payment), f"payment {payment.id}")

    def payments_of(self, account_id: str) -> list[Payment]:
        """Oldest first."""
        c = payments.c
        query = select(payments).where(c.account_id == account_id).order_by(c.created_at, c.id)
        return [rows.payment_of(r) for r in self.all(query)]

    def add_payments(self, added: Sequence[Payment]) -> None:
        self.insert_all(payments, [rows.values(payment) for payment in added])

    def add_intents(self, added: Sequence[PaymentIntent]) -> None:
        """`add_intent` for several; a taken key raises `Conflict` (then roll back)."""
        try:
            self.insert_all(payment_intents, [rows.values(intent) for intent in added])
        except IntegrityError as exc:
            raise Conflict(f"one of {len(added)} payment intents already exists") from exc

    def intents_by_key(self, keys: Sequence[str], lock: bool = False
                       ) -> dict[str, PaymentIntent]:
        """Several intents in one query, locked in key order."""
        if not keys:
            return {}
        query = (select(payment_intents).where(self.among(payment_intents.c.key, keys))
                 .order_by(payment_intents.c.key))
        return {r.key: rows.intent_of(r) for r in self.all(self.locked(query, lock))}

    def add_intent(self, intent: PaymentIntent) -> None:
        self.insert_new(payment_intents, rows.values(intent), f"payment intent {intent.key}")

    def get_intent(self, key: str, lock: bool = False) -> PaymentIntent | None:
        row = self.prepared(_INTENT, {"key": key}, lock).first()
        return None if row is None else rows.intent_of(row)

    def save_intent(self, intent: PaymentIntent) -> None:
        self.update_by_key(payment_intents, "key", intent.key, rows.values(intent),
                           f"payment intent {intent.key}")

    def save_intents(self, saved: Sequence[PaymentIntent]) -> None:
        """`save_intent` for several, in one executemany."""
        self._update_many(payment_intents, payment_intents.c.key,
                          [(i.key, rows.values(i)) for i in saved], "payment intents")

    def save_outcomes(self, saved: Sequence[PaymentIntent]) -> None:
        """Only status and result: a settled batch neither encodes nor sends each intent's
        payload, amount, card and creation time again."""
        self._update_many(payment_intents, payment_intents.c.key,
                          [(i.key, {"status": i.status, "result": i.result}) for i in saved],
                          "payment intents")

    def save_provider_ids(self, opened: Sequence[tuple[str, str]]) -> None:
        """Only the provider's intent id of each (key, provider id), stored before the
        provider is asked to confirm it."""
        self._update_many(payment_intents, payment_intents.c.key,
                          [(key, {"provider_id": provider_id}) for key, provider_id in opened],
                          "payment intents")

    def pending_intents(self, created_before: datetime, limit: int) -> list[PaymentIntent]:
        """Oldest first; not locked (lock each with `get_intent(key, lock=True)`)."""
        c = payment_intents.c
        query = (select(payment_intents).where(c.status == "pending", c.created_at < created_before)
                 .order_by(c.created_at, c.key).limit(limit))
        return [rows.intent_of(r) for r in self.all(query)]

    def pending_intent_of(self, account_id: str) -> PaymentIntent | None:
        """The newest pending intent of the account."""
        row = self.prepared(_PENDING_INTENT_OF, {"account_id": account_id}).first()
        return None if row is None else rows.intent_of(row)

    def add_ledger_entry(self, entry: LedgerEntry) -> None:
        self.insert_new(ledger_entries, rows.values(entry), f"ledger entry {entry.id}")

    def add_ledger_entries(self, entries: Sequence[LedgerEntry]) -> None:
        """`add_ledger_entry` for several, in order, in one statement."""
        self.insert_all(ledger_entries, [rows.values(entry) for entry in entries])

    def ledger_of(self, account_id: str) -> list[LedgerEntry]:
        c = ledger_entries.c
        query = select(ledger_entries).where(c.account_id == account_id).order_by(c.created_at,
                                                                                 c.seq)
        return [rows.ledger_of(r) for r in self.all(query)]

    def balance_of(self, account_id: str) -> int:
        c = ledger_entries.c
        total = select(func.coalesce(func.sum(c.amount), 0)).where(c.account_id == account_id)
        return int(self.connection.execute(total).scalar_one())

    def balances_of(self, account_ids: Sequence[str]) -> dict[str, int]:
        """The balance of several accounts in one query (0 for those without entries)."""
        if not account_ids:
            return {}
        c = ledger_entries.c
        query = (select(c.account_id, func.sum(c.amount))
                 .where(self.among(c.account_id, account_ids)).group_by(c.account_id))
        found = {account_id: int(total) for account_id, total in self.connection.execute(query)}
        return {account_id: found.get(account_id, 0) for account_id in account_ids}

    # -- change requests -------------------------------------------------------------

    def add_request(self, request: ChangeRequest) -> None:
        self.insert_new(change_requests, rows.request_values(request), f"request {request.id}")
        self.insert_all(change_request_events, rows.request_event_values(request, 0))

    def get_request(self, request_id: str, lock: bool = False) -> ChangeRequest | None:
        query = select(change_requests).where(change_requests.c.id == request_id)
        found = self._with_history(self.all(self.locked(query, lock)))
        return found[0] if found else None

    def save_request(self, request: ChangeRequest) -> None:
        """Update the request and append the history events not stored yet."""
        self.update(change_requests, change_requests.c.id == request.id,
                    rows.request_values(request), f"request {request.id}")
        e = change_request_events.c
        stored = self.connection.execute(
            select(func.count()).where(e.request_id == request.id)).scalar_one()
        if stored > len(request.history):
            raise ValueError(f"request {request.id}: history is append-only ({stored} events "
                             f"stored, {len(request.history)} given)")
        self.insert_all(change_request_events, rows.request_event_values(request, stored))

    def requests_of(self, account_id: str) -> list[ChangeRequest]:
        """Newest first."""
        c = change_requests.c
        query = (select(change_requests).where(c.account_id == account_id)
                 .order_by(c.created_at.desc(), c.id.desc()))
        return self._with_history(self.all(query))

    def request_queue(self, status: str | None, limit: int, after: str | None
                      ) -> list[ChangeRequest]:
        """Oldest first, optionally only those in `status`."""
        c = change_requests.c
        past, by = page(change_requests, c.created_at, after, newest_first=False)
        query = select(change_requests).where(past).order_by(*by).limit(limit)
        if status is not None:
            query = query.where(c.status == status)
        return self._with_history(self.all(query))

    def _with_history(self, found: Sequence[Row[Any]]) -> list[ChangeRequest]:
        if not found:
            return []
        e = change_request_events.c
        history: dict[str, list[Row[Any]]] = defaultdict(list)
        query = (select(change_request_events)
                 .where(self.among(e.request_id, [r.id for r in found]))
                 .order_by(e.request_id, e.position))
        for event in self.all(query):
            history[event.request_id].append(event)
        return [rows.request_of(r, history[r.id]) for r in found]

    # -- audit, usage ----------------------------------------------------------------

    def add_audit(self, entry: AuditEntry) -> None:
        self.insert_new(audit_entries, rows.values(entry), f"audit entry {entry.id}")

    def add_audits(self, entries: Sequence[AuditEntry]) -> None:
        """`add_audit` for several, in order, in one statement."""
        self.insert_all(audit_entries, [rows.values(entry) for entry in entries])

    def audit_of(self, account_id: str, limit: int, action: str | None = None
                 ) -> list[AuditEntry]:
        """Newest first; only the entries of `action`, if given."""
        c = audit_entries.c
        query = (select(audit_entries).where(c.account_id == account_id)
                 .order_by(c.at.desc(), c.seq.desc()).limit(limit))
        if action is not None:
            query = query.where(c.action == action)
        return [rows.audit_of(r) for r in self.all(query)]

    def save_usage(self, report: Usage) -> None:
        values = rows.values(report)
        self.connection.execute(self.upsert(usage).values(values).on_conflict_do_update(
            index_elements=[usage.c.account_id], set_=values))

    def usage_of(self, account_id: str) -> Usage | None:
        row = self.prepared(_USAGE_OF, {"account_id": account_id}).first()
        return None if row is None else rows.usage_of(row)

    def note_threshold(self, account_id: str, period_start: date, threshold: int) -> bool:
        noted = self.upsert(usage_thresholds).values(
            account_id=account_id, period_start=period_start, threshold=threshold)
        return self.inserted(noted)


def _invoice_changes(invoice: Invoice) -> dict[str, Any]:
    """What may change on an issued invoice: its payment state, never its lines or total."""
    return {"status": invoice.status, "credit_applied": invoice.credit_applied,
            "amount_paid": invoice.amount_paid, "attempts": invoice.attempts,
            "next_attempt_at": invoice.next_attempt_at}
