"""Payments, payment intents and the credit ledger on the transaction's connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Text, bindparam, func, select, text, type_coerce

from canone.db import rows
from canone.db.queries import Prepared, Queries, keyed
from canone.db.tables import invoices, ledger_entries, payment_intents, payments
from canone.db.types import encode_json
from canone.services.records import LedgerEntry, Payment, PaymentIntent

_INTENT = Prepared(keyed(payment_intents, "key"))
_PENDING_INTENT_OF = Prepared(
    keyed(payment_intents, "account_id", limit=None)
    .where(payment_intents.c.status == "pending")
    .order_by(payment_intents.c.created_at.desc(), payment_intents.c.key.desc()).limit(1))
_LOCK_SIGNUPS_OF = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
# Read by every quote and every billing page.
_BALANCE_OF = Prepared(select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
                       .where(ledger_entries.c.account_id == bindparam("account_id")))


class SqlPayments(Queries):
    def add(self, payment: Payment) -> None:
        self.insert_new(payments, rows.values(payment), f"payment {payment.id}")

    def add_many(self, added: Sequence[Payment]) -> None:
        self.insert_all(payments, [rows.values(payment) for payment in added])

    def of_account(self, account_id: str) -> list[Payment]:
        """Oldest first."""
        c = payments.c
        query = select(payments).where(c.account_id == account_id).order_by(c.created_at, c.id)
        return [rows.payment_of(r) for r in self.all(query)]

    def add_intent(self, intent: PaymentIntent) -> None:
        self.insert_new(payment_intents, rows.values(intent), f"payment intent {intent.key}")

    def add_intents(self, added: Sequence[PaymentIntent]) -> None:
        """`add_intent` for several; a taken key raises `Conflict` (then roll back), here:
        what is held is sent."""
        self.insert_all(payment_intents, [rows.values(intent) for intent in added],
                        taken=f"one of {len(added)} payment intents")
        self.send_held()

    def get_intent(self, key: str, lock: bool = False) -> PaymentIntent | None:
        row = self.prepared(_INTENT, {"key": key}, lock).first()
        return None if row is None else rows.intent_of(row)

    def intents_by_key(self, keys: Sequence[str], lock: bool = False
                       ) -> dict[str, PaymentIntent]:
        """Several intents in one query, locked in key order."""
        if not keys:
            return {}
        query = (select(payment_intents).where(self.among(payment_intents.c.key, keys))
                 .order_by(payment_intents.c.key))
        return {r.key: rows.intent_of(r) for r in self.all(self.locked(query, lock))}

    def save_intent(self, intent: PaymentIntent) -> None:
        self.update_by_key(payment_intents, "key", intent.key, rows.values(intent),
                           f"payment intent {intent.key}")

    def save_intents(self, saved: Sequence[PaymentIntent]) -> None:
        """`save_intent` for several, in one statement (see `update_many`)."""
        self.update_many(payment_intents, payment_intents.c.key,
                          [(i.key, rows.values(i)) for i in saved], "payment intents")

    def save_provider_ids(self, opened: Sequence[tuple[str, str]]) -> None:
        """Only the provider's intent id of each (key, provider id), stored before the
        provider is asked to confirm it."""
        self.update_many(payment_intents, payment_intents.c.key,
                          [(key, {"provider_id": provider_id}) for key, provider_id in opened],
                          "payment intents")

    def save_outcomes(self, saved: Sequence[PaymentIntent]) -> None:
        """Only status and result: a settled batch neither encodes nor sends each intent's
        payload, amount, card and creation time again."""
        self.update_many(payment_intents, payment_intents.c.key,
                          [(i.key, {"status": i.status, "result": i.result}) for i in saved],
                          "payment intents")

    def pending_intents(self, created_before: datetime, limit: int) -> list[PaymentIntent]:
        """Oldest first; not locked (lock each with `get_intent(key, lock=True)`)."""
        c = payment_intents.c
        query = (select(payment_intents).where(c.status == "pending", c.created_at < created_before)
                 .order_by(c.created_at, c.key).limit(limit))
        return [rows.intent_of(r) for r in self.all(query)]

    def unrefunded_stale(self, created_after: datetime, limit: int) -> list[PaymentIntent]:
        """Change intents that succeeded after their quote went stale (their result
        `credited`, SPEC §9) whose invoice is still paid, not refunded: a crash may have
        left their refund undone. Oldest first; not locked. Such payments are rare, each
        leaves this list once its refund succeeds, and the index on (status, created_at)
        bounds the intents read to those created since `created_after`."""
        c = payment_intents.c
        # The result is JSON text written by one encoder: its fragment is matched as text.
        credited = "%" + encode_json({"credited": True})[1:-1] + "%"
        query = (select(payment_intents)
                 .where(c.status == "succeeded", c.created_at > created_after,
                        c.purpose == "change", type_coerce(c.result, Text).like(credited))
                 .order_by(c.created_at, c.key))
        found = [rows.intent_of(r) for r in self.all(query)]
        invoice_of = {i.key: str((i.result or {}).get("invoice_id")) for i in found}
        paid = {r.id for r in self.all(
            select(invoices.c.id).where(self.among(invoices.c.id, list(invoice_of.values())),
                                        invoices.c.status == "paid"))} if found else set()
        return [i for i in found if invoice_of[i.key] in paid][:limit]

    def pending_intent_of(self, account_id: str) -> PaymentIntent | None:
        """The newest pending intent of the account."""
        row = self.prepared(_PENDING_INTENT_OF, {"account_id": account_id}).first()
        return None if row is None else rows.intent_of(row)

    def lock_signups_of(self, email: str) -> None:
        # SQLite runs one writing transaction at a time (BEGIN IMMEDIATE): nothing to lock.
        if self.postgres:
            self.connection.execute(_LOCK_SIGNUPS_OF, {"key": f"signup:{email}"})

    def pending_signups_of(self, email: str) -> list[PaymentIntent]:
        # Few at any time (one waiting for the customer's bank is given up by the next
        # sign-up for its address, or cancelled after a day, `payments.ABANDONED_AFTER`),
        # so their payloads are read rather than indexed.
        found = self.all(select(payment_intents).where(
            payment_intents.c.status == "pending", payment_intents.c.purpose == "signup"))
        return [intent for intent in map(rows.intent_of, found)
                if intent.payload.get("email") == email]


class SqlLedger(Queries):
    def add(self, entry: LedgerEntry) -> None:
        self.insert_new(ledger_entries, rows.values(entry), f"ledger entry {entry.id}")

    def add_many(self, entries: Sequence[LedgerEntry]) -> None:
        """`add` for several, in order, in one statement."""
        self.insert_all(ledger_entries, [rows.values(entry) for entry in entries])

    def of_account(self, account_id: str) -> list[LedgerEntry]:
        c = ledger_entries.c
        query = select(ledger_entries).where(c.account_id == account_id).order_by(c.created_at,
                                                                                 c.seq)
        return [rows.ledger_of(r) for r in self.all(query)]

    def balance_of(self, account_id: str) -> int:
        return int(self.prepared(_BALANCE_OF, {"account_id": account_id}).scalar_one())

    def balances_of(self, account_ids: Sequence[str]) -> dict[str, int]:
        """The balance of several accounts in one query (0 for those without entries)."""
        if not account_ids:
            return {}
        c = ledger_entries.c
        query = (select(c.account_id, func.sum(c.amount))
                 .where(self.among(c.account_id, account_ids)).group_by(c.account_id))
        found = {account_id: int(total) for account_id, total in self.connection.execute(query)}
        return {account_id: found.get(account_id, 0) for account_id in account_ids}
