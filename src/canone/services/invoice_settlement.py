"""Settling an invoice's collection intent (SPEC §5, §9): paid, carried below the
provider's minimum, or failed — and then the retry schedule: the next attempt planned, a
reminder instead of a charge when the bank waits for the customer, or the account
restricted after the last attempt and the restriction lifted once nothing is unpaid.
`collection` runs the attempts; this module decides what each outcome means.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from canone.services import subscriptions
from canone.services.context import (
    RETRY_AFTER_DAYS,
    Services,
    Settlement,
    local_date,
    record_change,
)
from canone.services.errors import existing
from canone.services.payloads import Declined, InvoicePayload, Settled
from canone.services.payments import FAILED
from canone.services.ports import AUTHENTICATION_REQUIRED, CARRIED, ChargeResult
from canone.services.records import (
    ACTIVE,
    CANCELLED,
    PAST_DUE,
    Account,
    Invoice,
    InvoiceStatus,
    PaymentIntent,
    PaymentStatus,
)
from canone.services.store import Store


def attempt_key(invoice: Invoice, attempt: int | None = None) -> str:
    """The idempotency key of a collection attempt of the invoice (default: the next)."""
    return f"col_{invoice.id}_{invoice.attempts + 1 if attempt is None else attempt}"


def _invoice_paid(svc: Services, store: Store, intent: PaymentIntent,
                  outcome: ChargeResult) -> Settled:
    invoice = _invoice_of(store, intent)
    if outcome.status == CARRIED:
        return _invoice_carried(svc, store, intent, invoice)
    paid = invoice.but(status=InvoiceStatus.PAID, amount_paid=invoice.amount_paid + intent.amount,
                       next_attempt_at=None)
    store.invoices.save(paid)
    subscriptions.record_paid(svc, store, intent, outcome, paid)
    account = existing(store.accounts.get(invoice.account_id, lock=True), "account")
    lifted = account.status == PAST_DUE and not _unpaid(store, account)
    if lifted:
        _set_standing(svc, store, account, ACTIVE)
    subscriptions.notify_admin(svc, store, account, "renewal_receipt",
                               {**subscriptions.invoice_event(paid),
                                "restriction_lifted": lifted,
                                **subscriptions.debited_from(account, intent)})
    return Settled(invoice_id=invoice.id)


def _invoice_carried(svc: Services, store: Store, intent: PaymentIntent,
                     invoice: Invoice) -> Settled:
    """An amount due under the provider's minimum charge (SPEC §9): nothing is charged, it
    is carried to the next invoice as a debit line and this one is settled by that entry
    (as credit settles part of an invoice; no payment is recorded, none was made)."""
    account = existing(store.accounts.get(invoice.account_id, lock=True), "account")
    settled = invoice.but(status=InvoiceStatus.PAID,
                          credit_applied=invoice.credit_applied + intent.amount,
                          next_attempt_at=None)
    store.invoices.save(settled)
    subscriptions.carry(svc, store, account, net(intent.amount, invoice),
                        f"Invoice {invoice.number}, below the minimum charge", invoice.id)
    if account.status == PAST_DUE and not _unpaid(store, account):
        _set_standing(svc, store, account, ACTIVE)
    return Settled(invoice_id=invoice.id, carried=intent.amount)


def net(gross: int, invoice: Invoice) -> int:
    """The net part of `gross` of the invoice (half up): the next invoice bills a carried
    amount as a line and taxes it, so the tax is not paid twice."""
    if invoice.total <= 0 or invoice.subtotal == invoice.total:
        return gross
    return (2 * gross * invoice.subtotal + invoice.total) // (2 * invoice.total)


def _invoice_failed(svc: Services, store: Store, intent: PaymentIntent,
                    outcome: ChargeResult) -> None:
    invoice = _invoice_of(store, intent)
    account, data = subscriptions.payment_failed(svc, store, intent, outcome, invoice)
    kind = ("payment_authentication" if outcome.status == AUTHENTICATION_REQUIRED
            else "payment_failed")
    count_attempt(svc, store, invoice, account, kind, data)


def count_attempt(svc: Services, store: Store, invoice: Invoice, account: Account,
                   kind: str, data: dict[str, object]) -> None:
    """One attempt of the retry schedule (SPEC §5) spent: the next one planned, or the
    account restricted after the last; the primary admin told what is true now."""
    attempts = invoice.attempts + 1  # numbers the intents' keys; `spent` the schedule's
    start, spent = _schedule(svc, store, invoice, attempts)
    retry = (start + timedelta(days=RETRY_AFTER_DAYS[spent - 1])
             if spent <= len(RETRY_AFTER_DAYS) else None)
    store.invoices.save(invoice.but(attempts=attempts, next_attempt_at=retry))
    restricted = "still" if account.status == PAST_DUE else "now" if retry is None else "no"
    if retry is None:
        locked = existing(store.accounts.get(invoice.account_id, lock=True), "account")
        _set_standing(svc, store, locked, PAST_DUE)
    last = start + timedelta(days=RETRY_AFTER_DAYS[-1])
    subscriptions.notify_admin(svc, store, account, kind, {
        # A debit known to have failed days later (SPEC §9) may be past its retry day: it is
        # then collected again by the next billing run, whatever the day says.
        **data, "overdue": retry is not None and retry <= svc.now(),
        "number": invoice.number, "attempt": spent,
        "attempts": len(RETRY_AFTER_DAYS) + 1, "restricted": restricted,
        "next_attempt_on": local_date(retry, account.timezone).isoformat() if retry else None,
        "last_attempt_on": local_date(last, account.timezone).isoformat()})


def _schedule(svc: Services, store: Store, invoice: Invoice,
              attempts: int) -> tuple[datetime, int]:
    """When the invoice's retry schedule started and how many of its attempts are spent
    with this one: from its issue, or from the latest return of its SEPA debit, which made
    it unpaid again and restarted the schedule (SPEC §9) with the return as its first
    attempt. Looked up only when the issue's schedule is over (never on a plain retry)."""
    if (attempts <= len(RETRY_AFTER_DAYS)
            and invoice.issued_at + timedelta(days=RETRY_AFTER_DAYS[attempts - 1]) > svc.now()):
        return invoice.issued_at, attempts
    returns = [p.created_at for p in store.payments.of_account(invoice.account_id)
               if p.invoice_id == invoice.id and p.status == PaymentStatus.DEBIT_RETURNED]
    if not returns:
        return invoice.issued_at, attempts
    since = max(returns)
    tried = store.payments.intents_by_key([attempt_key(invoice, n)
                                           for n in range(1, attempts + 1)])
    return since, 1 + sum(1 for intent in tried.values() if intent.created_at >= since)


def awaiting_customer(store: Store, invoices: list[Invoice],
                      accounts: dict[str, Account]) -> set[str]:
    """The invoices whose earlier attempt, with the card still on file, ended in the bank
    asking the customer to authenticate (SPEC §9): charging that card again while they are
    away would only be refused again. A new card is charged as ever."""
    keys = sorted(attempt_key(invoice, n) for invoice in invoices
                  for n in range(1, invoice.attempts + 1))
    waiting = set()
    for intent in (store.payments.intents_by_key(keys).values() if keys else ()):
        card = accounts[str(intent.account_id)].card
        if (intent.status == FAILED and intent.result is not None
                and Declined.from_json(intent.result).decline_code == AUTHENTICATION_REQUIRED
                and card is not None and card.token == intent.card_token):
            waiting.add(InvoicePayload.from_json(intent.payload).invoice_id)
    return waiting


def remind(svc: Services, store: Store, invoice: Invoice, account: Account) -> None:
    """A retry day of an invoice waiting for its customer to authenticate: a reminder with
    the link to pay it on the billing page, instead of a charge."""
    data: dict[str, object] = {
        "amount": invoice.amount_due, "currency": invoice.currency,
        "reason": AUTHENTICATION_REQUIRED, "message": "", "invoice_id": invoice.id,
        "reminder": True}
    record_change(svc, store, account_id=account.id, actor="system",
                  action="payment.authentication_reminder", before=None, after=data)
    count_attempt(svc, store, invoice, account, "payment_authentication", data)


def _invoice_of(store: Store, intent: PaymentIntent) -> Invoice:
    return existing(store.invoices.get(InvoicePayload.from_json(intent.payload).invoice_id),
                    f"invoice of payment intent {intent.key}")


def _unpaid(store: Store, account: Account) -> bool:
    return any(i.status == InvoiceStatus.OPEN
               for i in store.invoices.of_account(account.id, 1000, None))


def _set_standing(svc: Services, store: Store, account: Account, status: str) -> None:
    """Restrict an account that did not pay (past_due) or lift the restriction."""
    store.accounts.save(account.but(status=status))
    sub = store.subscriptions.of_account(account.id, lock=True)
    if sub is not None and sub.status != CANCELLED:
        store.subscriptions.save(sub.but(status=status, version=sub.version + 1))
    record_change(svc, store, account_id=account.id, actor="system",
                  action=f"account.{status}", before={"status": account.status},
                  after={"status": status}, event="account.updated")


# How a "invoice" intent is settled (wired in bootstrap.settlements()).
INVOICE_SETTLEMENT = Settlement(_invoice_paid, _invoice_failed)
