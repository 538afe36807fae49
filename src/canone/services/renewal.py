"""The billing run: renew every period that has ended, then collect what is owed (SPEC §5).

Each (subscription, period) is invoiced at most once: subscriptions are claimed with row
locks (SKIP LOCKED on PostgreSQL, so many workers can share the run), and the store refuses
a second renewal invoice for the same period start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from canone.billing.money import ZERO, to_minor
from canone.billing.pricing import CUSTOM, price
from canone.services import subscriptions
from canone.services.context import Services, new_id, record_change, subscription_json
from canone.services.errors import PaymentFailed, PaymentPending
from canone.services.payments import COMPLETIONS, FAILURES, PENDING, pay
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
)
from canone.services.store import Conflict, Store

# Failed collection is retried on days 3, 5 and 7 of the invoice (day 1 = issue day).
RETRY_AFTER_DAYS = (2, 4, 6)


@dataclass
class RunReport:
    renewed: int = 0
    cancelled: int = 0
    collected: int = 0
    failed: int = 0
    pending: int = 0


Progress = Callable[[int], None]


def run(svc: Services, until: datetime | None = None, batch: int = 500,
        progress: Progress | None = None) -> RunReport:
    """Renew everything due up to `until` (default now), then collect open invoices."""
    until = until or svc.now()
    report = RunReport()
    while True:
        with svc.database.transaction() as store:
            due = store.claim_due(until, batch)
            for sub in due:
                renew_one(svc, store, sub, report)
        if progress is not None:
            progress(len(due))
        if not due:  # a subscription several periods behind comes back once per period
            break
    collect(svc, svc.now(), report)
    return report


def renew_one(svc: Services, store: Store, sub: Subscription, report: RunReport) -> None:
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
        return
    config = sub.pending or sub.config
    # A scheduled change of interval (support, month ↔ year) starts a new period, and a new
    # anchor, where the old period ends (SPEC §2: periods are counted from the anchor).
    anchor = sub.anchor if config.interval == sub.config.interval else sub.period_end
    renewed = subscriptions.with_period(sub, account.timezone, anchor, config.interval,
                                        sub.period_end)
    renewed = renewed.but(config=config, pending=None, version=sub.version + 1)
    bill = price(svc.catalog, config)
    if bill.status == CUSTOM:  # negotiated by support: never billed from the list
        raise ValueError(f"subscription {sub.id} has a custom price")
    total = to_minor(bill.total or ZERO)
    credit = min(store.balance_of(account.id), total)
    try:
        invoice = subscriptions.issue_invoice(
            svc, store, account, renewed, "renewal", bill.lines, renewed.period_start,
            renewed.period_end, paid=False, credit_applied=credit)
    except Conflict:
        invoice = None  # this period was billed by an earlier run: only move the dates
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


def collect(svc: Services, now: datetime, report: RunReport | None = None,
            account_id: str | None = None, batch: int = 500) -> RunReport:
    """Charge open invoices whose next attempt is due."""
    report = report or RunReport()
    while True:
        keys = []
        with svc.database.transaction() as store:
            for invoice in store.invoices_to_collect(now, batch):
                if account_id is not None and invoice.account_id != account_id:
                    continue
                key = _collect_key(invoice)
                account = store.get_account(invoice.account_id)
                assert account is not None
                store.save_invoice(invoice.but(next_attempt_at=None))
                store.add_intent(PaymentIntent(
                    key=key, account_id=account.id, purpose="invoice", amount=invoice.amount_due,
                    currency=invoice.currency, card_token=account.card.token if account.card
                    else "", payload={"invoice_id": invoice.id}, status=PENDING,
                    created_at=svc.now()))
                keys.append(key)
        for key in keys:
            try:
                pay(svc, key)
                report.collected += 1
            except PaymentFailed:
                report.failed += 1
            except PaymentPending:
                report.pending += 1
        if len(keys) < batch:
            return report


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
