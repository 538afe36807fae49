"""The subscription's state changes: apply a change, schedule or drop a reduction, cancel
and resume, and the invoices, credits and notices that go with them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from canone.billing.changes import Change
from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration
from canone.billing.money import to_minor
from canone.billing.periods import period_containing
from canone.billing.pricing import Line
from canone.services.access import (
    Actor,
    load_account,
    primary_admin_of,
    require_billing,
    require_primary_admin,
)
from canone.services.context import (
    Services,
    local_midnight,
    new_id,
    notify,
    record_change,
    subscription_json,
    today,
)
from canone.services.errors import Busy, InvalidTransition, NotFound, existing
from canone.services.payments import record_payment
from canone.services.ports import ChargeResult
from canone.services.records import (
    CANCELLED,
    Account,
    AuditEntry,
    Event,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    PaymentIntent,
    Subscription,
)
from canone.services.store import Store


def current(svc: Services, store: Store, account: Account, lock: bool = False) -> Subscription:
    sub = store.subscriptions.of_account(account.id, lock=lock)
    if sub is None:
        raise NotFound(f"account {account.id} has no subscription")
    if sub.status == CANCELLED:
        raise InvalidTransition("The subscription was cancelled.")
    if today(svc, account) >= sub.period_end:
        raise Busy("The subscription is due for renewal; try again in a minute.")
    return sub


def with_period(sub: Subscription, tz: str, anchor: date, interval: str, day: date
                ) -> Subscription:
    period = period_containing(anchor, interval, day)
    return sub.but(anchor=anchor, period_start=period.start, period_end=period.end,
                   renews_at=local_midnight(period.end, tz))


def apply_change(svc: Services, store: Store, account: Account, sub: Subscription,
                 change: Change, why: str, actor: str = "system") -> Subscription:
    """Put the change's immediate configuration in effect now and schedule the rest."""
    new = sub.but(config=change.immediate, pending=change.scheduled, version=sub.version + 1)
    if change.new_anchor is not None:
        new = with_period(new, account.timezone, change.new_anchor, change.immediate.interval,
                          change.new_anchor)
    store.subscriptions.save(new)
    if change.immediate != sub.config:
        record_change(svc, store, account_id=account.id, actor=actor,
                      action=f"subscription.{why}", before=subscription_json(sub),
                      after=subscription_json(new), event="subscription.changed")
    if change.scheduled is not None:
        record_change(svc, store, account_id=account.id, actor=actor,
                      action="subscription.change_scheduled", before=None,
                      after=subscription_json(new), event="subscription.change_scheduled")
    return new


def issue_invoice(svc: Services, store: Store, account: Account, sub: Subscription, kind: str,
                  lines: Iterable[Line], start: date | None, end: date | None, *,
                  paid: bool, credit_applied: int = 0) -> Invoice:
    invoice = _new_invoice(svc, account, sub, kind, lines, start, end, new_id("inv"),
                           store.invoices.next_number(today(svc, account).year), paid=paid,
                           credit_applied=credit_applied)
    store.invoices.add(invoice)
    record_change(svc, store, account_id=account.id, actor="system", action="invoice.issued",
                  before=None, after={"invoice": invoice.number, "total": invoice.total},
                  event="invoice.issued", data=invoice_event(invoice))
    return invoice


def issue_paid_invoice(svc: Services, store: Store, account: Account, sub: Subscription,
                       kind: str, lines: Iterable[Line], start: date | None, end: date | None,
                       intent: PaymentIntent, outcome: ChargeResult) -> Invoice:
    """`issue_invoice(paid=True)`, `record_paid` and the purchase e-mail in one, with the
    invoice number taken last: its per-year counter row stays locked until the transaction
    commits, so every concurrent purchase waits for it. What does not name the number (the
    admin's address, the payment) comes first; then the number, the invoice, and the
    records that name it, the audit entries and the events in one statement each."""
    admin = primary_admin_of(store, account.id)
    invoice_id = new_id("inv")
    record_payment(svc, store, intent, outcome, account.id, invoice_id)
    invoice = _new_invoice(svc, account, sub, kind, lines, start, end, invoice_id,
                           store.invoices.next_number(today(svc, account).year), paid=True)
    store.invoices.add(invoice)
    now = svc.now()
    data = invoice_event(invoice)
    store.audit.add_many([
        AuditEntry(new_id("aud"), account.id, "system", "invoice.issued", None,
                   {"invoice": invoice.number, "total": invoice.total}, now),
        AuditEntry(new_id("aud"), account.id, "system", "invoice.paid", None,
                   {"invoice": invoice.number, "amount_paid": intent.amount}, now)])
    store.outbox.add_events([Event(new_id("evt"), "invoice.issued", account.id, data, now),
                             Event(new_id("evt"), "invoice.paid", account.id, data, now)])
    if admin is not None:
        # A sign-up is welcomed; any other purchase confirmed, both with the plan bought.
        notice = "signup_confirmation" if kind == "signup" else "purchase_confirmation"
        notify(svc, store, account, admin.email, notice,
               {**data, "plan": config_to_json(sub.config)})
    return invoice


def _new_invoice(svc: Services, account: Account, sub: Subscription, kind: str,
                 lines: Iterable[Line], start: date | None, end: date | None, invoice_id: str,
                 number: str, *, paid: bool, credit_applied: int = 0) -> Invoice:
    now = svc.now()
    invoice_lines = tuple(InvoiceLine(line.key, line.description, to_minor(line.amount))
                          for line in lines)
    total = sum(line.amount for line in invoice_lines)
    return Invoice(
        id=invoice_id, account_id=account.id, subscription_id=sub.id, number=number,
        kind=kind, currency=sub.config.currency, issued_at=now, period_start=start,
        period_end=end, lines=invoice_lines, total=total, credit_applied=credit_applied,
        amount_paid=total - credit_applied if paid else 0,
        status="paid" if paid or total - credit_applied <= 0 else "open",
        next_attempt_at=None if paid else now,
    )


def invoice_event(invoice: Invoice) -> dict[str, object]:
    return {"invoice_id": invoice.id, "number": invoice.number, "total": invoice.total,
            "amount_paid": invoice.amount_paid, "currency": invoice.currency,
            "status": invoice.status}


def record_paid(svc: Services, store: Store, intent: PaymentIntent, outcome: ChargeResult,
                invoice: Invoice) -> None:
    record_payment(svc, store, intent, outcome, invoice.account_id, invoice.id)
    record_change(svc, store, account_id=invoice.account_id, actor="system",
                  action="invoice.paid", before=None,
                  after={"invoice": invoice.number, "amount_paid": intent.amount},
                  event="invoice.paid", data=invoice_event(invoice))


def payment_failed(svc: Services, store: Store, intent: PaymentIntent, outcome: ChargeResult,
                   invoice: Invoice | None) -> tuple[Account, dict[str, object]]:
    """Record a failed charge (payment, audit, event); the account and what the event said,
    for the caller's email, which depends on what failed (an invoice, a plan change)."""
    account_id = existing(intent.account_id, f"account of payment intent {intent.key}")
    account = existing(store.accounts.get(account_id), "account")
    record_payment(svc, store, intent, outcome, account.id, invoice.id if invoice else None)
    data: dict[str, object] = {
        "amount": intent.amount, "currency": intent.currency, "reason": outcome.status,
        "message": outcome.message, "invoice_id": invoice.id if invoice else None}
    record_change(svc, store, account_id=account.id, actor="system", action="payment.failed",
                  before=None, after=data, event="payment.failed")
    return account, data


def credit(svc: Services, store: Store, account: Account, amount: int, description: str,
           invoice_id: str | None) -> None:
    """Grant account credit (append-only ledger); used by the next invoices."""
    if amount <= 0:
        return
    store.ledger.add(LedgerEntry(new_id("led"), account.id, amount, account.currency,
                                       description, invoice_id, svc.now()))
    record_change(svc, store, account_id=account.id, actor="system", action="ledger.credited",
                  before=None, after={"amount": amount, "description": description},
                  event="credit.granted")


def carry(svc: Services, store: Store, account: Account, amount: int, description: str,
          invoice_id: str | None) -> None:
    """Carry an amount under the payment provider's minimum charge to the account's next
    invoice (SPEC §9): a ledger entry against the balance, which the next renewal bills as
    a debit line (`renewal`), so nothing is lost and nothing is charged below the minimum."""
    if amount <= 0:
        return
    store.ledger.add(LedgerEntry(new_id("led"), account.id, -amount, account.currency,
                                       description, invoice_id, svc.now()))
    record_change(svc, store, account_id=account.id, actor="system", action="ledger.carried",
                  before=None, after={"amount": amount, "description": description,
                                      "invoice_id": invoice_id})


def notify_admin(svc: Services, store: Store, account: Account, kind: str,
                 data: dict[str, object]) -> None:
    admin = primary_admin_of(store, account.id)
    if admin is not None:
        notify(svc, store, account, admin.email, kind, data)


def drop_pending(svc: Services, actor: Actor, account_id: str) -> Subscription:
    """Cancel a scheduled reduction before it takes effect."""
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "change the plan")
        sub = current(svc, store, account, lock=True)
        if sub.pending is None:
            raise InvalidTransition("There is no scheduled change to cancel.")
        new = sub.but(pending=None, version=sub.version + 1)
        store.subscriptions.save(new)
        record_change(svc, store, account_id=account_id, actor=actor.name,
                      action="subscription.pending_dropped", before=subscription_json(sub),
                      after=subscription_json(new), event="subscription.changed")
        return new


def set_cancellation(svc: Services, actor: Actor, account_id: str, cancel: bool,
                     reason: str = "") -> Subscription:
    """Cancel at period end (cancel=True) or undo that before the period ends."""
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id)
        what = "cancel the account" if cancel else "undo the cancellation"
        require_primary_admin(store, actor, account_id, what)
        sub = current(svc, store, account, lock=True)
        if sub.cancel_at_period_end == cancel:
            raise InvalidTransition("The account is already set to cancel at period end."
                                    if cancel else "The account is not set to cancel.")
        new = sub.but(cancel_at_period_end=cancel, version=sub.version + 1)
        store.subscriptions.save(new)
        record_change(svc, store, account_id=account_id, actor=actor.name,
                      action="subscription.cancel" if cancel else "subscription.resume",
                      before=subscription_json(sub),
                      after={**subscription_json(new), "reason": reason},
                      event="subscription.changed")
        return new


def set_pending(svc: Services, store: Store, account: Account, sub: Subscription,
                config: Configuration | None, actor: str) -> Subscription:
    new = sub.but(pending=config, version=sub.version + 1)
    store.subscriptions.save(new)
    record_change(svc, store, account_id=account.id, actor=actor,
                  action="subscription.change_scheduled", before=subscription_json(sub),
                  after=subscription_json(new), event="subscription.change_scheduled")
    return new


def subscription_of(svc: Services, actor: Actor, account_id: str) -> Subscription:
    """The account's subscription as it is now (any person or key of the account may read
    it)."""
    with svc.database.read() as store:
        load_account(store, actor, account_id)
        sub = store.subscriptions.of_account(account_id)
        if sub is None:
            raise NotFound(f"account {account_id} has no subscription")
        return sub
