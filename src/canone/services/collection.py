"""Collecting open invoices (SPEC §5): an intent per attempt, committed before the card is
charged (`payments`), the charges, then one transaction that settles a batch of them.

Two ways in, one way of settling (`_settle_collections`):
- `charge_issued`: the billing run writes the intents of the invoices it issues in the
  same transaction as the invoices (`renewal`), charges them right after the commit, and
  settles them from the invoices it holds in memory: one write of each invoice, no read.
- `collect`: open invoices whose next attempt is due (retries on days 3, 5 and 7, a card
  updated, a batch that was renewed row by row) are claimed, read, given their intent, then
  charged and settled the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from canone.services import invoice_settlement
from canone.services.batching import BatchStore, BufferedPayments
from canone.services.context import (
    Services,
)
from canone.services.errors import PaymentFailed, PaymentPending
from canone.services.forwarding import ForwardInvoices
from canone.services.payloads import InvoicePayload
from canone.services.payments import (
    PENDING,
    at_provider,
    charge,
    open_charges,
    settle,
    settle_in,
)
from canone.services.ports import ChargeResult
from canone.services.records import (
    Account,
    Invoice,
    InvoiceStatus,
    PaymentIntent,
    User,
)
from canone.services.repositories import Invoices, Payments
from canone.services.store import Store

log = logging.getLogger(__name__)



@dataclass
class RunReport:
    """What a billing run (or a collection) did."""

    renewed: int = 0
    cancelled: int = 0
    blocked: int = 0  # due but not billable from the catalog: left due (`renewal.blocked`)
    collected: int = 0
    failed: int = 0
    pending: int = 0


def intent_for(svc: Services, invoice: Invoice, account: Account,
               on_session: bool = False) -> PaymentIntent:
    """The payment intent of the invoice's next collection attempt; its key is the card
    network's idempotency key, so an attempt is charged at most once. `on_session`: the
    customer pays it on the billing page, where their bank may ask them to authenticate."""
    return PaymentIntent(
        key=invoice_settlement.attempt_key(invoice), account_id=account.id, purpose="invoice",
        amount=invoice.amount_due, currency=invoice.currency,
        card_token=account.card.token if account.card else "",
        payload=InvoicePayload(invoice.id, on_session).to_json(), status=PENDING,
        created_at=svc.now())


def charge_issued(svc: Services, issued: list[tuple[PaymentIntent, Invoice]],
                  report: RunReport) -> None:
    """Charge and settle invoices whose intents were committed with them (the billing run's
    batches), each invoice as it was written then. Nothing else changes such an invoice
    meanwhile: `collect` skips it (no next attempt while its intent is in flight), and so
    does `collect_account` (the intent exists); only settling its intent does, and settling
    locks the intent first and leaves one that is no longer pending alone (`settle_in`)."""
    _charge_and_settle(svc, [intent for intent, _ in issued],
                       {invoice.id: invoice for _, invoice in issued}, report)


def collect(svc: Services, now: datetime, report: RunReport | None = None,
            account_id: str | None = None, batch: int = 500,
            on_session: bool = False) -> RunReport:
    """Charge open invoices whose next attempt is due, a batch at a time: one transaction
    writes the batch's payment intents, the card network is asked for each, and one
    transaction settles the batch (`_settle_collections`). An invoice whose bank wants the
    customer to authenticate (SPEC §9) is not charged behind their back again: its retry
    day reminds them instead, unless they pay it themselves (`on_session`)."""
    report = report or RunReport()
    while True:
        with svc.database.transaction() as store:
            due = store.invoices.to_collect(now, batch, account_id)
            accounts = store.accounts.by_ids(sorted({i.account_id for i in due}))
            waiting = (set() if on_session
                       else invoice_settlement.awaiting_customer(store, due, accounts))
            for invoice in due:
                if invoice.id in waiting:
                    invoice_settlement.remind(svc, store, invoice, accounts[invoice.account_id])
            pending = [invoice.but(next_attempt_at=None)  # in flight
                       for invoice in due if invoice.id not in waiting]
            store.invoices.save_many(pending)
            intents = [intent_for(svc, invoice, accounts[invoice.account_id], on_session)
                       for invoice in pending]
            store.payments.add_intents(intents)
        _charge_and_settle(svc, intents, {invoice.id: invoice for invoice in pending}, report)
        if len(due) < batch:
            return report


def _charge_and_settle(svc: Services, intents: list[PaymentIntent],
                       invoices: dict[str, Invoice], report: RunReport) -> None:
    """Open committed intents at the provider (one transaction stores their ids), confirm
    them (`svc.charges_in_flight` at once), then settle them together."""
    unopened = {intent.key for intent in intents if intent.provider_id is None}

    def charge_one(intent: PaymentIntent) -> tuple[str, ChargeResult] | None:
        try:
            return intent.key, charge(svc, intent, intent.key in unopened)
        except PaymentPending:  # settled later by reconciliation
            return None

    outcomes = at_provider(svc, charge_one, open_charges(svc, intents))
    charged = [outcome for outcome in outcomes if outcome is not None]
    report.pending += len(outcomes) - len(charged)
    for paid in _settle_collections(svc, charged, invoices):
        if paid:
            report.collected += 1
        else:
            report.failed += 1


def _settle_collections(svc: Services, charged: list[tuple[str, ChargeResult]],
                        invoices: dict[str, Invoice]) -> list[bool]:
    """Settle a batch of collection charges in one transaction; whether each was paid.
    `invoices` are the charged invoices as their intents' transaction wrote them (see
    `charge_issued`): the intents are read again, locked, and so are the accounts (an
    invoice paid may lift a restriction); the invoices are not. Should the batch fail as a
    whole, each is settled in a transaction of its own, where an error stays with its
    intent (left pending for reconciliation)."""
    if not charged:
        return []
    try:
        with svc.database.transaction() as store:
            intents = store.payments.intents_by_key(sorted(key for key, _ in charged), lock=True)
            ids = sorted({invoices[InvoicePayload.from_json(i.payload).invoice_id].account_id
                          for i in intents.values()})
            batch = _CollectStore(store, intents, dict(invoices),
                                  store.accounts.by_ids(ids, lock=True),
                                  store.people.users_of_accounts(ids))
            settled = [settle_in(svc, batch, key, outcome) is not None
                       for key, outcome in charged]
            batch.flush()
        return settled
    except Exception:  # whatever it was, it is met again below, with one intent at stake
        log.warning("settling %d collections in one batch failed; settling them one by one",
                    len(charged), exc_info=True)
    paid = []
    for key, outcome in charged:
        try:
            settle(svc, key, outcome)
            paid.append(True)
        except PaymentFailed:
            paid.append(False)
    return paid


class _Updates:
    """The invoice and intent updates of a batch of collections, kept until something reads
    invoices or intents beyond what the batch was given."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.served: dict[str, PaymentIntent] = {}  # as read, to tell what settling changed
        self.intents: dict[str, PaymentIntent] = {}
        self.invoices: dict[str, Invoice] = {}

    def write(self) -> None:
        self.store.invoices.save_many(list(self.invoices.values()))
        # An intent whose status and result alone changed (every invoice intent settled
        # here) is written narrow; any other change, in full.
        narrow: list[PaymentIntent] = []
        full: list[PaymentIntent] = []
        for intent in self.intents.values():
            served = self.served.get(intent.key)
            same = served is not None and served == intent.but(status=served.status,
                                                               result=served.result)
            (narrow if same else full).append(intent)
        self.store.payments.save_outcomes(narrow)
        self.store.payments.save_intents(full)
        self.invoices, self.intents = {}, {}


class _CollectPayments(BufferedPayments):
    """Each intent read beforehand (locked) served once; their updates kept."""

    def __init__(self, inner: Payments, intents: dict[str, PaymentIntent],
                 updates: _Updates) -> None:
        super().__init__(inner)
        self._intents = intents
        self._updates = updates

    def get_intent(self, key: str, lock: bool = False) -> PaymentIntent | None:
        if key in self._intents:  # locked when read
            self._updates.served[key] = self._intents.pop(key)
            return self._updates.served[key]
        self._updates.write()
        return self.inner.get_intent(key, lock)

    def save_intent(self, intent: PaymentIntent) -> None:
        self._updates.intents[intent.key] = intent


class _CollectInvoices(ForwardInvoices):
    """Each invoice given served once; their updates kept."""

    def __init__(self, inner: Invoices, invoices: dict[str, Invoice],
                 updates: _Updates) -> None:
        super().__init__(inner)
        self._invoices = invoices
        self._updates = updates

    def get(self, invoice_id: str) -> Invoice | None:
        if invoice_id in self._invoices:
            return self._invoices.pop(invoice_id)
        self._updates.write()
        return self.inner.get(invoice_id)

    def save(self, invoice: Invoice) -> None:
        self._updates.invoices[invoice.id] = invoice

    def of_account(self, account_id: str, limit: int, after: str | None) -> list[Invoice]:
        self._updates.write()
        return self.inner.of_account(account_id, limit, after)


class _CollectStore(BatchStore):
    """A batch of collections: the intents (locked), their accounts (locked) and people
    read beforehand, their invoices given; payments, audit entries, events, emails and the
    invoice and intent updates buffered. Each intent and invoice is served once from what
    was read or given; any other read of invoices or intents writes the updates out first."""

    def __init__(self, store: Store, intents: dict[str, PaymentIntent],
                 invoices: dict[str, Invoice], accounts: dict[str, Account],
                 people: dict[str, list[User]]) -> None:
        super().__init__(store, accounts, accounts_locked=True, people=people)
        self._updates = _Updates(store)
        self.buffered_payments = _CollectPayments(store.payments, intents, self._updates)
        self.payments = self.buffered_payments
        self.invoices = _CollectInvoices(store.invoices, invoices, self._updates)

    def flush(self) -> None:
        self._updates.write()
        super().flush()


def collect_account(svc: Services, account_id: str) -> RunReport:
    """Collect an account's open invoices now (after its card was updated), including those
    waiting for their next retry; one whose charge is in flight is left to reconciliation."""
    with svc.database.transaction() as store:
        for invoice in store.invoices.of_account(account_id, 1000, None):
            if (invoice.status == InvoiceStatus.OPEN
                    and store.payments.get_intent(invoice_settlement.attempt_key(invoice)) is None):
                store.invoices.save(invoice.but(next_attempt_at=svc.now()))
    return collect(svc, svc.now(), account_id=account_id)
