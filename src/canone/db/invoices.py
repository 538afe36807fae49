"""Subscriptions and invoices (with their lines) on the transaction's connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select

from canone.db import rows
from canone.db.documents import SDI_COUNTER
from canone.db.queries import Prepared, Queries, keyed, page
from canone.db.tables import invoice_counters, invoice_lines, invoices, subscriptions
from canone.services.records import CANCELLED, Invoice, Subscription

_SUBSCRIPTION_OF = Prepared(keyed(subscriptions, "account_id"))
# `SqlInvoices.of_account` from the newest (no `after`): every billing page reads it.
_NEWEST_OF = Prepared(keyed(invoices, "account_id", limit=None)
                      .order_by(invoices.c.issued_at.desc(), invoices.c.id.desc())
                      .limit(bindparam("limit", type_=Integer)))


class SqlSubscriptions(Queries):
    def add(self, subscription: Subscription) -> None:
        self.insert_new(subscriptions, rows.subscription_values(subscription),
                        f"a subscription of account {subscription.account_id}")

    def of_account(self, account_id: str, lock: bool = False) -> Subscription | None:
        row = self.prepared(_SUBSCRIPTION_OF, {"account_id": account_id}, lock).first()
        return None if row is None else rows.subscription_of(row)

    def save(self, subscription: Subscription) -> None:
        self.update_by_key(subscriptions, "id", subscription.id,
                           rows.subscription_values(subscription),
                           f"subscription {subscription.id}")

    def save_many(self, saved: Sequence[Subscription]) -> None:
        """`save` for several, in one statement (see `update_many`)."""
        self.update_many(subscriptions, subscriptions.c.id,
                          [(s.id, rows.subscription_values(s)) for s in saved], "subscriptions")

    def claim_due(self, until: datetime, limit: int, skip: Sequence[str] = ()
                  ) -> list[Subscription]:
        c = subscriptions.c
        query = (select(subscriptions).where(c.renews_at <= until, c.status != CANCELLED)
                 .order_by(c.renews_at, c.id).limit(limit))
        if skip:
            query = query.where(c.id.not_in(list(skip)))
        return [rows.subscription_of(r) for r in self.all(self.claimed(query))]


class SqlInvoices(Queries):
    def next_number(self, year: int) -> str:
        """The next number of `year`. Its counter row stays locked until the transaction
        ends: what the transaction writes from here on is held and sent together (on
        PostgreSQL, `canone.db.held`), so that the series stands still for few round trips."""
        number = self.next_numbers(year, 1)[0]
        self.hold()
        return number

    def next_number_with_progressive(self, year: int) -> tuple[str, int]:
        """`next_number` and the SDI progressive of the invoice's FatturaPA file, in one
        round trip (the invoice's counter first, as every transaction takes them)."""
        last, progressive = self.bump((invoice_counters, year, 1), SDI_COUNTER)
        self.hold()
        return _number(year, last), progressive

    def next_numbers(self, year: int, count: int) -> list[str]:
        """`count` consecutive numbers in one statement (beyond the port: for batches).
        The counter row stays locked until the transaction ends, so concurrent writers
        take turns: take numbers as late in a transaction as possible."""
        last = self.bump((invoice_counters, year, count))[0]
        return [_number(year, n) for n in range(last - count + 1, last + 1)]

    def add(self, invoice: Invoice) -> None:
        what = (f"a {invoice.kind} invoice for subscription {invoice.subscription_id} from "
                f"{invoice.period_start}" if invoice.kind == "renewal"
                else f"invoice {invoice.id} or number {invoice.number}")
        self.insert_new(invoices, rows.invoice_values(invoice), what)
        self.insert_all(invoice_lines, rows.line_values(invoice))

    def add_many(self, added: Sequence[Invoice]) -> None:
        """`add` for several, one statement per table. A taken key raises
        `Conflict`, here (what is held is sent), and leaves the transaction to be rolled
        back."""
        self.insert_all(invoices, [rows.invoice_values(i) for i in added],
                        taken=f"one of {len(added)} invoices")
        self.send_held()
        self.insert_all(invoice_lines, [line for i in added for line in rows.line_values(i)])

    def get(self, invoice_id: str) -> Invoice | None:
        found = self._with_lines(self.all(select(invoices).where(invoices.c.id == invoice_id)))
        return found[0] if found else None

    def by_ids(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        """Several invoices with their lines, in two queries."""
        if not invoice_ids:
            return {}
        query = select(invoices).where(self.among(invoices.c.id, invoice_ids))
        return {invoice.id: invoice for invoice in self._with_lines(self.all(query))}

    def save(self, invoice: Invoice) -> None:
        self.update(invoices, invoices.c.id == invoice.id, _invoice_changes(invoice),
                    f"invoice {invoice.id}")

    def save_many(self, saved: Sequence[Invoice]) -> None:
        """`save` for several, in one statement (see `update_many`)."""
        self.update_many(invoices, invoices.c.id,
                          [(i.id, _invoice_changes(i)) for i in saved], "invoices")

    def of_account(self, account_id: str, limit: int, after: str | None) -> list[Invoice]:
        """Newest first."""
        if after is None:
            return self._with_lines(self.prepared(_NEWEST_OF, {"account_id": account_id,
                                                               "limit": limit}))
        past, by = page(invoices, invoices.c.issued_at, after, newest_first=True)
        query = (select(invoices).where(invoices.c.account_id == account_id, past)
                 .order_by(*by).limit(limit))
        return self._with_lines(self.all(query))

    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        c = invoices.c
        query = select(c.id).where(c.subscription_id == subscription_id,
                                   c.period_start == period_start, c.kind == "renewal")
        return self.first(query) is not None

    def to_collect(self, now: datetime, limit: int, account_id: str | None = None
                   ) -> list[Invoice]:
        c = invoices.c
        query = (select(invoices).where(c.status == "open", c.next_attempt_at <= now)
                 .order_by(c.next_attempt_at, c.id).limit(limit))
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        return self._with_lines(self.all(self.claimed(query)))

    def disputed(self, limit: int) -> list[Invoice]:
        # ix_invoices_collect leads with status: few invoices are ever disputed.
        c = invoices.c
        query = (select(invoices).where(c.status == "disputed")
                 .order_by(c.issued_at.desc(), c.id.desc()).limit(limit))
        return self._with_lines(self.all(query))


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



def _number(year: int, n: int) -> str:
    return f"{year}-{n:06d}"


def _invoice_changes(invoice: Invoice) -> dict[str, Any]:
    """What may change on an issued invoice: its payment state, never its lines or total."""
    return {"status": invoice.status, "credit_applied": invoice.credit_applied,
            "amount_paid": invoice.amount_paid, "attempts": invoice.attempts,
            "next_attempt_at": invoice.next_attempt_at}
