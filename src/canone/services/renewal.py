"""The billing run: renew every period that has ended, then collect what is owed (SPEC §5).

Each (subscription, period) is invoiced at most once: subscriptions are claimed with row
locks (SKIP LOCKED on PostgreSQL, so many workers can share the run), and the store refuses
a second renewal invoice for the same period start.

A subscription that cannot be billed from the catalog (its configuration has a custom price,
or is no longer in the catalog) blocks only itself: it is left due, an audit entry and a
`renewal.blocked` event say why (once per period), and the run goes on with the others.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from canone.billing.configuration import validate
from canone.billing.errors import InvalidField
from canone.billing.money import ZERO, to_minor
from canone.billing.pricing import CUSTOM, Price, price
from canone.services import subscriptions
from canone.services.batching import BufferedStore
from canone.services.context import (
    Services,
    config_json,
    new_id,
    record_change,
    subscription_json,
    today,
)
from canone.services.errors import PaymentFailed, PaymentPending
from canone.services.payments import COMPLETIONS, FAILURES, PENDING, charge, settle, settle_in
from canone.services.ports import ChargeResult
from canone.services.records import (
    ACTIVE,
    CANCELLED,
    PAST_DUE,
    Account,
    Invoice,
    LedgerEntry,
    PaymentIntent,
    Subscription,
    User,
)
from canone.services.store import Conflict, Store

# Failed collection is retried on days 3, 5 and 7 of the invoice (day 1 = issue day).
RETRY_AFTER_DAYS = (2, 4, 6)


# What `renew_one` did with a due subscription.
RENEWED, CANCELLED_NOW, BLOCKED = "renewed", "cancelled", "blocked"


@dataclass
class RunReport:
    renewed: int = 0
    cancelled: int = 0
    blocked: int = 0  # due but not billable from the catalog: left due (`renewal.blocked`)
    collected: int = 0
    failed: int = 0
    pending: int = 0


Progress = Callable[[int], None]


def run(svc: Services, until: datetime | None = None, batch: int = 500,
        progress: Progress | None = None) -> RunReport:
    """Renew everything due up to `until` (default now), then collect open invoices.

    Each batch is one transaction, written in a few statements (`_BatchStore`); a batch
    that cannot be (a conflict, a year that turned mid-batch) is rolled back and renewed
    again one subscription at a time. A blocked subscription stays due, and is not claimed
    again in this run."""
    until = until or svc.now()
    report = RunReport()
    blocked: set[str] = set()
    while True:
        done = RunReport()
        try:
            with svc.database.transaction() as store:
                due = store.claim_due(until, batch, sorted(blocked))
                outcomes = _renew_batch(svc, store, due, done)
        except (Conflict, _Fallback):
            done = RunReport()
            with svc.database.transaction() as store:
                due = store.claim_due(until, batch, sorted(blocked))
                outcomes = [renew_one(svc, store, sub, done) for sub in due]
        blocked.update(sub.id for sub, outcome in zip(due, outcomes, strict=True)
                       if outcome == BLOCKED)
        report.renewed += done.renewed
        report.cancelled += done.cancelled
        report.blocked += done.blocked
        if progress is not None:
            progress(len(due))
        if not due:  # a subscription several periods behind comes back once per period
            break
    collect(svc, svc.now(), report)
    return report


class _Fallback(Exception):
    """The batch could not be written in one go: renew it row by row."""


def _renew_batch(svc: Services, store: Store, due: list[Subscription],
                 report: RunReport) -> list[str]:
    """Renew a batch in the caller's transaction; what became of each (`renew_one`)."""
    if not due:
        return []
    ids = sorted({sub.account_id for sub in due})
    accounts = store.accounts_by_id(ids)
    years = Counter(today(svc, accounts[sub.account_id]).year for sub in due
                    if not sub.cancel_at_period_end and isinstance(_next_bill(svc, sub), Price))
    numbers = {year: store.next_invoice_numbers(year, count)
               for year, count in sorted(years.items())}
    batch = _BatchStore(store, accounts, store.balances_of(ids), numbers)
    outcomes = [renew_one(svc, batch.as_store(), sub, report) for sub in due]
    batch.flush()
    return outcomes


class _BatchStore(BufferedStore):
    """The store as one batch of renewals sees it: accounts and balances read for the whole
    batch at once, invoice numbers taken in one statement, and what each renewal writes
    (invoices, subscription updates, audit entries, events) written together by `flush`."""

    def __init__(self, store: Store, accounts: dict[str, Account], balances: dict[str, int],
                 numbers: dict[int, list[str]]) -> None:
        super().__init__(store, accounts)
        self._balances = balances
        self._numbers = {year: deque(taken) for year, taken in numbers.items()}
        self._invoices: list[Invoice] = []
        self._subscriptions: list[Subscription] = []

    def balance_of(self, account_id: str) -> int:
        return self._balances[account_id]

    def add_ledger_entry(self, entry: LedgerEntry) -> None:
        self._balances[entry.account_id] += entry.amount
        self.store.add_ledger_entry(entry)

    def next_invoice_number(self, year: int) -> str:
        if not self._numbers.get(year):
            raise _Fallback(f"no number of {year} was taken for this batch")
        return self._numbers[year].popleft()

    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        # Not asked row by row: the batch's insert of its invoices finds a billed period
        # (Conflict), and the batch, invoice numbers included, is rolled back and redone.
        return False

    def add_invoice(self, invoice: Invoice) -> None:
        self._invoices.append(invoice)

    def save_subscription(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    def flush(self) -> None:
        if any(self._numbers.values()):  # a number taken and not used would be a gap
            raise _Fallback("invoice numbers were left over")
        self.store.add_invoices(self._invoices)
        self.store.save_subscriptions(self._subscriptions)
        super().flush()


def _next_bill(svc: Services, sub: Subscription) -> Price | str:
    """The price of the subscription's next period from the catalog, or why there is none.
    (Both are remembered by the catalog: asking twice costs two dictionary look-ups.)"""
    config = sub.pending or sub.config
    try:
        bill = price(svc.catalog, validate(svc.catalog, config))
    except InvalidField as exc:
        return f"the configuration is not in the catalog any more ({exc})"
    if bill.status == CUSTOM:  # negotiated by support: never billed from the list
        return "the configuration has a custom price: support bills it, not the price list"
    return bill


def renew_one(svc: Services, store: Store, sub: Subscription, report: RunReport) -> str:
    """Renew one due subscription in the caller's transaction (the subscription locked):
    RENEWED, CANCELLED_NOW (it was to end at period end) or BLOCKED (left due)."""
    account = store.get_account(sub.account_id)
    assert account is not None
    if sub.cancel_at_period_end:
        ended = sub.but(status=CANCELLED, version=sub.version + 1,
                        renews_at=sub.renews_at + timedelta(days=365 * 1000))
        store.save_subscription(ended)
        record_change(svc, store, account_id=account.id, actor="system",
                      action="subscription.cancelled", before=subscription_json(sub),
                      after=subscription_json(ended), event="subscription.cancelled")
        report.cancelled += 1
        return CANCELLED_NOW
    config = sub.pending or sub.config
    # A scheduled change of interval (support, month ↔ year) starts a new period, and a new
    # anchor, where the old period ends (SPEC §2: periods are counted from the anchor).
    anchor = sub.anchor if config.interval == sub.config.interval else sub.period_end
    renewed = subscriptions.with_period(sub, account.timezone, anchor, config.interval,
                                        sub.period_end)
    renewed = renewed.but(config=config, pending=None, version=sub.version + 1)
    bill = _next_bill(svc, sub)
    if not isinstance(bill, Price):
        _block(svc, store, account, sub, renewed, bill)
        report.blocked += 1
        return BLOCKED
    total = to_minor(bill.total or ZERO)
    credit = min(store.balance_of(account.id), total)
    if store.renewal_invoiced(sub.id, renewed.period_start):
        # Billed by an earlier run that did not move the dates: only move them. Asked
        # first, under the subscription's lock, so no invoice number is taken in vain.
        invoice = None
    else:
        invoice = subscriptions.issue_invoice(
            svc, store, account, renewed, "renewal", bill.lines, renewed.period_start,
            renewed.period_end, paid=False, credit_applied=credit)
    if invoice is not None and credit:
        store.add_ledger_entry(LedgerEntry(new_id("led"), account.id, -credit, account.currency,
                                           f"Applied to invoice {invoice.number}", invoice.id,
                                           svc.now()))
    store.save_subscription(renewed)
    if sub.pending is not None:
        record_change(svc, store, account_id=account.id, actor="system",
                      action="subscription.change_applied", before=subscription_json(sub),
                      after=subscription_json(renewed), event="subscription.change_applied")
    record_change(svc, store, account_id=account.id, actor="system",
                  action="subscription.renewed", before=None, after=subscription_json(renewed),
                  event="subscription.renewed")
    report.renewed += 1
    return RENEWED


def _block(svc: Services, store: Store, account: Account, sub: Subscription,
           renewed: Subscription, reason: str) -> None:
    """Leave a subscription that cannot be billed due, and say why: once per period (the
    run meets it again every day until support changes its configuration or the catalog)."""
    period = {"start": renewed.period_start.isoformat(), "end": renewed.period_end.isoformat()}
    last = store.audit_of(account.id, 1, action="renewal.blocked")
    if last and last[0].after is not None and (last[0].after.get("subscription"),
                                               last[0].after.get("period")) == (sub.id, period):
        return
    record_change(svc, store, account_id=account.id, actor="system", action="renewal.blocked",
                  before=subscription_json(sub),
                  after={"subscription": sub.id, "period": period, "reason": reason,
                         "configuration": config_json(renewed.config)},
                  event="renewal.blocked")


def collect(svc: Services, now: datetime, report: RunReport | None = None,
            account_id: str | None = None, batch: int = 500) -> RunReport:
    """Charge open invoices whose next attempt is due, a batch at a time: one transaction
    writes the batch's payment intents, the card network is asked for each, and one
    transaction settles the batch (`_settle_collections`)."""
    report = report or RunReport()
    while True:
        with svc.database.transaction() as store:
            due = store.invoices_to_collect(now, batch, account_id)
            accounts = store.accounts_by_id(sorted({i.account_id for i in due}))
            intents = []
            store.save_invoices([invoice.but(next_attempt_at=None) for invoice in due])
            for invoice in due:
                account = accounts[invoice.account_id]
                intents.append(PaymentIntent(
                    key=_collect_key(invoice), account_id=account.id, purpose="invoice",
                    amount=invoice.amount_due, currency=invoice.currency,
                    card_token=account.card.token if account.card else "",
                    payload={"invoice_id": invoice.id}, status=PENDING, created_at=svc.now()))
            store.add_intents(intents)
        charged = []
        for intent in intents:
            try:
                charged.append((intent.key, charge(svc, intent)))
            except PaymentPending:  # settled later by reconciliation
                report.pending += 1
        for paid in _settle_collections(svc, charged):
            if paid:
                report.collected += 1
            else:
                report.failed += 1
        if len(due) < batch:
            return report


def _settle_collections(svc: Services, charged: list[tuple[str, ChargeResult]]
                        ) -> list[bool]:
    """Settle a batch of collection charges in one transaction; whether each was paid.
    Should the batch fail as a whole, each is settled in a transaction of its own, where an
    error stays with its intent (left pending for reconciliation)."""
    if not charged:
        return []
    try:
        with svc.database.transaction() as store:
            intents = store.intents_by_key(sorted(key for key, _ in charged), lock=True)
            invoices = store.invoices_by_id(
                sorted({str(i.payload["invoice_id"]) for i in intents.values()}))
            ids = sorted({invoice.account_id for invoice in invoices.values()})
            batch = _CollectStore(store, intents, invoices, store.accounts_by_id(ids, lock=True),
                                  store.users_of_accounts(ids))
            settled = [settle_in(svc, batch.as_store(), key, outcome) is not None
                       for key, outcome in charged]
            batch.flush()
        return settled
    except Exception:  # whatever it was, it is met again below, with one intent at stake
        pass
    paid = []
    for key, outcome in charged:
        try:
            settle(svc, key, outcome)
            paid.append(True)
        except PaymentFailed:
            paid.append(False)
    return paid


class _CollectStore(BufferedStore):
    """A batch of collections: the intents (locked), their invoices, the accounts (locked)
    and their people read beforehand; payments, audit entries, events, emails and the
    invoice and intent updates buffered. Each intent and invoice is served once from what
    was read; any other read of invoices or intents writes the updates out first."""

    def __init__(self, store: Store, intents: dict[str, PaymentIntent],
                 invoices: dict[str, Invoice], accounts: dict[str, Account],
                 people: dict[str, list[User]]) -> None:
        super().__init__(store, accounts, accounts_locked=True, people=people)
        self._intents = intents
        self._invoices = invoices
        self._saved_intents: dict[str, PaymentIntent] = {}
        self._saved_invoices: dict[str, Invoice] = {}

    def get_intent(self, key: str, lock: bool = False) -> PaymentIntent | None:
        if key in self._intents:  # locked when read
            return self._intents.pop(key)
        self._write_updates()
        return self.store.get_intent(key, lock)

    def save_intent(self, intent: PaymentIntent) -> None:
        self._saved_intents[intent.key] = intent

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        if invoice_id in self._invoices:
            return self._invoices.pop(invoice_id)
        self._write_updates()
        return self.store.get_invoice(invoice_id)

    def save_invoice(self, invoice: Invoice) -> None:
        self._saved_invoices[invoice.id] = invoice

    def invoices_of(self, account_id: str, limit: int, after: str | None) -> list[Invoice]:
        self._write_updates()
        return self.store.invoices_of(account_id, limit, after)

    def _write_updates(self) -> None:
        self.store.save_invoices(list(self._saved_invoices.values()))
        self.store.save_intents(list(self._saved_intents.values()))
        self._saved_invoices, self._saved_intents = {}, {}

    def flush(self) -> None:
        self._write_updates()
        super().flush()


def collect_account(svc: Services, account_id: str) -> RunReport:
    """Collect an account's open invoices now (after its card was updated), including those
    waiting for their next retry; one whose charge is in flight is left to reconciliation."""
    with svc.database.transaction() as store:
        for invoice in store.invoices_of(account_id, 1000, None):
            if invoice.status == "open" and store.get_intent(_collect_key(invoice)) is None:
                store.save_invoice(invoice.but(next_attempt_at=svc.now()))
    return collect(svc, svc.now(), account_id=account_id)


def _collect_key(invoice: Invoice) -> str:
    """The idempotency key of the invoice's next collection attempt."""
    return f"col_{invoice.id}_{invoice.attempts + 1}"


def _invoice_paid(svc: Services, store: Store, intent: PaymentIntent,
                  outcome: ChargeResult) -> dict[str, object]:
    invoice = _invoice_of(store, intent)
    paid = invoice.but(status="paid", amount_paid=invoice.amount_paid + intent.amount,
                       next_attempt_at=None)
    store.save_invoice(paid)
    subscriptions.record_paid(svc, store, intent, outcome, paid)
    account = store.get_account(invoice.account_id, lock=True)
    assert account is not None
    if account.status == PAST_DUE and not _unpaid(store, account):
        _set_standing(svc, store, account, ACTIVE)
    subscriptions.notify_admin(svc, store, account, "renewal_receipt",
                               subscriptions.invoice_event(paid))
    return {"invoice_id": invoice.id}


def _invoice_failed(svc: Services, store: Store, intent: PaymentIntent,
                    outcome: ChargeResult) -> None:
    invoice = _invoice_of(store, intent)
    attempts = invoice.attempts + 1
    retry = (invoice.issued_at + timedelta(days=RETRY_AFTER_DAYS[attempts - 1])
             if attempts <= len(RETRY_AFTER_DAYS) else None)
    store.save_invoice(invoice.but(attempts=attempts, next_attempt_at=retry))
    subscriptions.payment_failed(svc, store, intent, outcome, invoice)
    if retry is None:
        account = store.get_account(invoice.account_id, lock=True)
        assert account is not None
        _set_standing(svc, store, account, PAST_DUE)


def _invoice_of(store: Store, intent: PaymentIntent) -> Invoice:
    invoice = store.get_invoice(str(intent.payload["invoice_id"]))
    assert invoice is not None
    return invoice


def _unpaid(store: Store, account: Account) -> bool:
    return any(i.status == "open" for i in store.invoices_of(account.id, 1000, None))


def _set_standing(svc: Services, store: Store, account: Account, status: str) -> None:
    """Restrict an account that did not pay (past_due) or lift the restriction."""
    store.save_account(account.but(status=status))
    sub = store.subscription_of(account.id, lock=True)
    if sub is not None and sub.status != CANCELLED:
        store.save_subscription(sub.but(status=status, version=sub.version + 1))
    record_change(svc, store, account_id=account.id, actor="system",
                  action=f"account.{status}", before={"status": account.status},
                  after={"status": status}, event="account.updated")


COMPLETIONS["invoice"] = _invoice_paid
FAILURES["invoice"] = _invoice_failed
