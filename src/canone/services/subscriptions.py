"""The subscription's state changes: apply a change, schedule or drop a reduction, cancel
and resume, and the invoices, credits and notices that go with them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from canone.billing.changes import Change
from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration
from canone.billing.invoicing import InvoiceDraft, InvoiceStatus, draft_invoice
from canone.billing.money import from_minor
from canone.billing.periods import period_containing
from canone.billing.pricing import Line
from canone.services import einvoice_files, taxation
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
    retry_days,
    subscription_json,
    today,
)
from canone.services.errors import Busy, InvalidTransition, NotFound, existing
from canone.services.payment_methods import is_sepa
from canone.services.payments import record_payment
from canone.services.ports import ChargeResult
from canone.services.records import (
    CANCELLED,
    Account,
    AuditEntry,
    Event,
    Invoice,
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
                  lines: Iterable[Line], start: date | None, end: date | None,
                  terms: taxation.DocumentTerms | None = None) -> Invoice:
    """Issue an open invoice (collected by the billing run), taxed by the account's billing
    details now (`terms`, when the caller worked them out: a billing run's batch), with as
    much of the account's credit balance applied as it takes."""
    if terms is None:
        terms = taxation.terms_of_account(svc.seller, store, account.id, svc.now())
    balance = store.ledger.balance_of(account.id)
    lines = invoice_lines(lines, balance)
    draft = draft_invoice(lines, paid=False, treatment=terms.treatment,
                          credit_available=max(balance, 0))
    number, progressive = _number(svc, store, account, terms, draft)
    invoice = _new_invoice(svc, account, sub, kind, draft, start, end, new_id("inv"), number,
                           terms)
    store.invoices.add(invoice)
    einvoice_files.file_invoice(svc, store, account, invoice, progressive)
    if draft.credit_applied or balance < 0:
        used, what = ((-draft.credit_applied, "Applied to") if draft.credit_applied
                      else (-balance, "Billed on"))
        store.ledger.add(LedgerEntry(new_id("led"), account.id, used, account.currency,
                                     f"{what} invoice {invoice.number}", invoice.id,
                                     svc.now()))
    record_change(svc, store, account_id=account.id, actor="system", action="invoice.issued",
                  before=None, after={"invoice": invoice.number, "total": invoice.total},
                  event="invoice.issued", data=invoice_event(invoice))
    return invoice


CARRIED_LINE = "Carried from earlier: amounts below the minimum charge"


def invoice_lines(lines: Iterable[Line], balance: int) -> tuple[Line, ...]:
    """The lines of an open invoice issued on a balance: with a negative one, the amounts
    under the minimum charge it carries are billed now (SPEC §9)."""
    return (*lines, carried_line(-balance)) if balance < 0 else tuple(lines)


def carried_line(amount: int) -> Line:
    """The debit line of what earlier charges under the minimum carried to this invoice."""
    return Line("carried", CARRIED_LINE, from_minor(amount))


def issue_paid_invoice(svc: Services, store: Store, account: Account, sub: Subscription,
                       kind: str, lines: Iterable[Line], start: date | None, end: date | None,
                       intent: PaymentIntent, outcome: ChargeResult,
                       terms: taxation.DocumentTerms, draft: InvoiceDraft,
                       email: bool = True, paid: bool = True) -> Invoice:
    """The paid invoice of `draft` (paid by `intent`; its credit from the balance, as quoted)
    with its payment, credit used, audit, events and the purchase e-mail, the invoice number
    taken last: its per-year counter row stays locked until the transaction commits, so
    every concurrent purchase waits for it. What does not name the number (the admin's
    address, the payment) comes first; then the number, the invoice, and the records that
    name it, which the SQL store sends together (`canone.db.held`). Not `paid` yet (a
    SEPA debit processing, SPEC §9): issued open, not collected (its debit is in flight),
    and paid when the debit succeeds."""
    admin = primary_admin_of(store, account.id)
    invoice_id = new_id("inv")
    if intent.amount and paid:  # the balance may have paid it all: nothing from the card
        record_payment(svc, store, intent, outcome, account.id, invoice_id)
    if not paid:
        draft = dataclasses.replace(draft, amount_paid=0, status=InvoiceStatus.OPEN)
    number, progressive = _number(svc, store, account, terms, draft)
    invoice = _new_invoice(svc, account, sub, kind, draft, start, end, invoice_id, number,
                           terms)
    if not paid:
        invoice = invoice.but(next_attempt_at=None)
    store.invoices.add(invoice)
    einvoice_files.file_invoice(svc, store, account, invoice, progressive)
    now = svc.now()
    if draft.credit_applied:
        store.ledger.add(LedgerEntry(
            new_id("led"), account.id, -draft.credit_applied, account.currency,
            f"Applied to invoice {invoice.number}", invoice.id, now))
    data = invoice_event(invoice)
    audits = [AuditEntry(new_id("aud"), account.id, "system", "invoice.issued", None,
                         {"invoice": invoice.number, "total": invoice.total}, now),
              AuditEntry(new_id("aud"), account.id, "system", "invoice.paid", None,
                         {"invoice": invoice.number, "amount_paid": intent.amount}, now)]
    events = [Event(new_id("evt"), "invoice.issued", account.id, data, now),
              Event(new_id("evt"), "invoice.paid", account.id, data, now)]
    store.audit.add_many(audits if paid else audits[:1])
    store.outbox.add_events(events if paid else events[:1])
    if admin is not None and email:
        # A sign-up is welcomed; any other purchase confirmed, both with the plan bought.
        notice = "signup_confirmation" if kind == "signup" else "purchase_confirmation"
        debit = debited_from(account, intent) if paid else _debit_notice(account, invoice,
                                                                         intent)
        notify(svc, store, account, admin.email, notice,
               {**data, "plan": config_to_json(sub.config), **debit})
    return invoice


def _debit_notice(account: Account, invoice: Invoice, intent: PaymentIntent
                  ) -> dict[str, object]:
    """What the email of an invoice paid by a SEPA debit still processing says of it: the
    amount, the bank account, and the retry days should it fail (SPEC §5, §9)."""
    if not is_sepa(account.card) or account.card is None:
        return {}
    return {"debit": {"amount": intent.amount, "last4": account.card.last4,
                      "retry_on": [day.isoformat() for day in
                                   retry_days(invoice.issued_at, account.timezone)]}}


def debited_from(account: Account, intent: PaymentIntent) -> dict[str, object]:
    """`bank_last4` when the intent was (or is) a SEPA debit from the account's bank account,
    for the emails to speak of that account and not of a card."""
    card = account.card
    if card is None or not is_sepa(card) or card.token != intent.card_token:
        return {}
    return {"bank_last4": card.last4}


def _number(svc: Services, store: Store, account: Account, terms: taxation.DocumentTerms,
            draft: InvoiceDraft) -> tuple[str, int | None]:
    """The number of the invoice of `draft`, with its file's SDI progressive when it has a
    file (`einvoice_files.invoice_number`)."""
    return einvoice_files.invoice_number(svc, store, account.id, terms.issued_on.year,
                                         terms.customer, draft.tax_lines)


def _new_invoice(svc: Services, account: Account, sub: Subscription, kind: str,
                 draft: InvoiceDraft, start: date | None, end: date | None, invoice_id: str,
                 number: str, terms: taxation.DocumentTerms) -> Invoice:
    """The invoice of `draft`, numbered, dated in the seller's calendar and with its
    parties; one left open is collected from now on (`next_attempt_at`)."""
    now = svc.now()
    open_ = draft.status == InvoiceStatus.OPEN
    return Invoice(
        id=invoice_id, account_id=account.id, subscription_id=sub.id, number=number,
        kind=kind, currency=sub.config.currency, issued_at=now, period_start=start,
        period_end=end, lines=draft.lines, total=draft.total,
        credit_applied=draft.credit_applied, amount_paid=draft.amount_paid,
        status=draft.status, next_attempt_at=now if open_ else None,
        subtotal=draft.subtotal, tax_lines=draft.tax_lines, issued_on=terms.issued_on,
        customer=terms.customer, seller=terms.seller,
    )


def invoice_event(invoice: Invoice) -> dict[str, object]:
    return {"invoice_id": invoice.id, "number": invoice.number, "subtotal": invoice.subtotal,
            "tax": invoice.tax, "total": invoice.total,
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
    return account, {**data, **debited_from(account, intent)}


def credit(svc: Services, store: Store, account: Account, amount: int, description: str,
           invoice_id: str | None, credit_note_id: str | None = None) -> None:
    """Grant account credit (append-only ledger); used by the next invoices. Money given
    back against an invoice names the credit note that gives it (SPEC §8)."""
    if amount <= 0:
        return
    store.ledger.add(LedgerEntry(new_id("led"), account.id, amount, account.currency,
                                 description, invoice_id, svc.now(),
                                 credit_note_id=credit_note_id))
    record_change(svc, store, account_id=account.id, actor="system", action="ledger.credited",
                  before=None, after={"amount": amount, "description": description,
                                      "credit_note_id": credit_note_id},
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
