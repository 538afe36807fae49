"""Settling a paid plan change (a "change" payment intent): the change applied with its
invoice, payment, audit and events together; or, paid for a change that can no longer be
applied as quoted (its quote went stale while it was paid), the payment invoiced and
refunded to the card with a credit note (SPEC §9).
The quote and its confirmation: `canone.services.quotes`."""

from __future__ import annotations

import dataclasses

from canone.billing.changes import Change, plan_change
from canone.billing.codec import config_to_json
from canone.billing.invoicing import InvoiceDraft, InvoiceStatus
from canone.billing.money import from_minor, to_minor
from canone.billing.pricing import Line
from canone.services import (
    credit_notes,
    invoice_settlement,
    refunds,
    subscriptions,
    taxation,
)
from canone.services.context import Services, Settlement, subscription_json
from canone.services.documents import SUPERSEDED_PAYMENT
from canone.services.errors import existing
from canone.services.payloads import QuoteClaims, Settled
from canone.services.ports import CARRIED, ChargeResult
from canone.services.records import (
    Account,
    IntentStatus,
    Invoice,
    PaymentIntent,
    Subscription,
)
from canone.services.store import Store


def _complete_change(svc: Services, store: Store, intent: PaymentIntent,
                     outcome: ChargeResult) -> Settled:
    result = Settled.from_json(intent.result) if intent.result else None
    if result is not None and result.on_mandate:  # applied: the invoice is paid now
        invoice = existing(store.invoices.get(existing(result.invoice_id, "invoice id")),
                           "invoice")
        paid = invoice.but(status=InvoiceStatus.PAID,
                           amount_paid=invoice.amount_paid + intent.amount,
                           next_attempt_at=None)
        store.invoices.save(paid)
        subscriptions.record_paid(svc, store, intent, outcome, paid)
        return result
    return apply_paid_change(svc, store, intent, outcome)[0]


# The account and subscription (locked), and the change as quoted with its invoice's terms
# and draft, or None when it can no longer be applied as quoted (`as_quoted`).
Quoted = tuple[Account, Subscription,
               tuple[Change, taxation.DocumentTerms, InvoiceDraft] | None]


class Applying:
    """The change's completion for `settle_in`, keeping the invoice it issued so that the
    confirmation needs no second read of it; with the change `as_quoted`, when the caller
    has just checked it in this transaction."""

    def __init__(self) -> None:
        self.applied = False
        self.invoice: Invoice | None = None
        self.quoted: Quoted | None = None

    def __call__(self, svc: Services, store: Store, intent: PaymentIntent,
                 outcome: ChargeResult) -> Settled:
        result, self.invoice = apply_paid_change(svc, store, intent, outcome,
                                                 quoted=self.quoted)
        self.applied = True
        return result


def apply_paid_change(svc: Services, store: Store, intent: PaymentIntent,
                       outcome: ChargeResult, paid: bool = True, quoted: Quoted | None = None
                       ) -> tuple[Settled, Invoice | None]:
    """Apply a paid change: subscription, invoice, payment, audit, events — together. The
    result stored for replays, and the invoice issued (None when nothing was due). Not
    `paid` yet (a SEPA debit processing): the invoice is issued open, its debit in flight.
    Under the provider's minimum (CARRIED): no invoice now, the net amount due is carried
    to the next invoice, and taxed there. `quoted`: `as_quoted` of the intent, when the
    caller has it from this transaction."""
    claims = QuoteClaims.from_json(intent.payload)
    account, sub, as_paid = quoted or as_quoted(svc, store, intent)
    if as_paid is None:  # another change overtook the one paid, or the tax it bound changed
        return _invoice_for_refund(svc, store, intent, outcome, account, sub), None
    change, terms, draft = as_paid
    day = claims.day
    new = subscriptions.apply_change(svc, store, account, sub, change, "user change")
    invoice = None
    if outcome.status == CARRIED:
        subscriptions.carry(svc, store, account, to_minor(change.due_now),
                            f"Plan change of {day.isoformat()}, below the minimum charge", None)
    elif change.due_now > 0 and not paid:
        invoice = subscriptions.issue_paid_invoice(svc, store, account, new, "upgrade",
                                                   change.lines, day, new.period_end, intent,
                                                   outcome, terms, draft, paid=False)
    elif change.due_now > 0:
        # The invoice covers the change day to the end of the (possibly new, month → year)
        # period. Its number is taken as late as possible (see issue_paid_invoice).
        invoice = subscriptions.issue_paid_invoice(svc, store, account, new, "upgrade",
                                                   change.lines, day, new.period_end, intent,
                                                   outcome, terms, draft)
    elif change.credit > 0:
        credit_notes.credit_unused_time(svc, store, account, change.credit,
                                        "Credit for unused time after a plan change", day)
    return Settled(invoice_id=invoice.id if invoice else None,
                   subscription=subscription_json(new),
                   carried=to_minor(change.due_now) if outcome.status == CARRIED else 0
                   ), invoice


def as_quoted(svc: Services, store: Store, intent: PaymentIntent) -> Quoted:
    """The account and subscription (locked, in that order), and the change as it was
    quoted with its invoice's terms and draft; None for the change when it can no longer
    be applied as quoted: another change moved the subscription on, or the account's
    details changed the total since confirming. A SEPA debit under way for a quote that
    went stale does not apply the change on its mandate: the debit's outcome settles it,
    as a stale quote's payment (refunded) or a declined change (SPEC §9)."""
    claims = QuoteClaims.from_json(intent.payload)
    account_id = existing(intent.account_id, f"account of payment intent {intent.key}")
    account = existing(store.accounts.get(account_id, lock=True), "account")
    sub = existing(store.subscriptions.of_account(account_id, lock=True), "subscription")
    if sub.version != claims.subscription_version:
        return account, sub, None
    change = plan_change(svc.catalog, sub.config, claims.target, sub.anchor, claims.day)
    terms = taxation.terms_of_account(svc.seller, store, account_id, svc.now())
    if claims.total is None:  # paid before taxes were quoted: invoiced as charged, net
        terms = dataclasses.replace(terms, treatment=None)
    # The credit quoted pays its part, as the card paid the rest: the invoice adds up to
    # exactly what was shown.
    draft = taxation.charge(change.lines if change.due_now > 0 else (), terms.treatment,
                            claims.credit or 0)
    if claims.total not in (None, draft.total):
        return account, sub, None
    return account, sub, (change, terms, draft)


def _invoice_for_refund(svc: Services, store: Store, intent: PaymentIntent,
                        outcome: ChargeResult, account: Account, sub: Subscription) -> Settled:
    """Paid for a change that can no longer be applied as quoted (its quote went stale
    while the payment finished): the payment received is invoiced (a payment received is
    invoiced) as quoted, its net, its tax and the credit it used, without a purchase email.
    What the card paid is refunded in full once this transaction commits (`refund_stale`,
    SPEC §9), with its credit note; the balance it used goes back to the balance, with a
    credit note now. Were the account taxed otherwise now, the invoice takes the VAT out of
    the quoted total; one quoted before taxes is invoiced net, as it was charged."""
    claims = QuoteClaims.from_json(intent.payload)
    terms = taxation.terms_of_account(svc.seller, store, account.id, svc.now())
    if claims.total is None:
        terms = dataclasses.replace(terms, treatment=None)
    net = claims.due
    if claims.total is not None and taxation.gross(net, terms.treatment) != claims.total:
        net = credit_notes.net_of_gross_minor(claims.total, terms.treatment)
    line = Line(SUPERSEDED_PAYMENT, credit_notes.DESCRIPTIONS[SUPERSEDED_PAYMENT],
                from_minor(net))
    draft = taxation.charge([line], terms.treatment, claims.credit or 0)
    if draft.credit_applied > 0:
        # Its credit note comes after the invoice: without its series locked first, this
        # would hold the invoice's and the files' counters while a credit note issued
        # meanwhile holds the series and waits for the files' counter (a deadlock).
        store.documents.lock_credit_note_series(credit_notes.seller_date(svc).year)
    invoice = subscriptions.issue_paid_invoice(
        svc, store, account, sub, "upgrade", [line], claims.day, sub.period_end, intent,
        outcome, terms, draft, email=False)
    if invoice.credit_applied > 0:
        credit_notes.credit_gross(svc, store, invoice, invoice.credit_applied,
                                  SUPERSEDED_PAYMENT, source_id=intent.key)
    return Settled(invoice_id=invoice.id, subscription=subscription_json(sub), credited=True)


def refund_stale(svc: Services, key: str) -> None:
    """After the settling transaction committed: refund in full what the card paid for a
    change that was not applied, through the provider (never inside a transaction). Called
    by whoever settled or finds it settled (the page's follow-up, the provider's event,
    reconciliation), as often as they come: nothing is refunded once a refund is recorded,
    the provider's key makes concurrent calls one refund, and the refund's credit note and
    email are recorded once per refund (`refunds.record_refund`)."""
    with svc.database.read() as store:
        intent = store.payments.get_intent(key)
        result = Settled.from_json(intent.result) if (
            intent is not None and intent.status == IntentStatus.SUCCEEDED
            and intent.result) else None
        if result is None or not result.credited or result.invoice_id is None:
            return  # applied, or kept as credit before canone refunded stale payments
        invoice = existing(store.invoices.get(result.invoice_id), "invoice")
        can = refunds.refundable(store, invoice)
    if can.paid > 0 and can.refunded == 0:
        refunds.refund_through_provider(svc, invoice, can, can.left, 1, "system")


def _change_failed(svc: Services, store: Store, intent: PaymentIntent,
                   outcome: ChargeResult) -> None:
    applied = Settled.from_json(intent.result) if intent.result else None
    if applied is not None and applied.on_mandate:  # applied: its invoice is unpaid
        invoice = existing(store.invoices.get(existing(applied.invoice_id, "invoice id")),
                           "invoice")
        account, data = subscriptions.payment_failed(svc, store, intent, outcome, invoice)
        invoice_settlement.count_attempt(svc, store, invoice, account, "payment_failed", data)
        return
    # Not a failed invoice: there is none, nothing changed and nothing will be retried.
    account, data = subscriptions.payment_failed(svc, store, intent, outcome, None)
    subscriptions.notify_admin(svc, store, account, "change_declined",
                               {**data, "target": config_to_json(
                                   QuoteClaims.from_json(intent.payload).target)})


def quote_stale(svc: Services, intent: PaymentIntent) -> bool:
    """Whether the change's quote went stale while its payment is open: another change
    (support's, a cancellation, a renewal) moved the subscription on."""
    claims = QuoteClaims.from_json(intent.payload)
    with svc.database.read() as store:
        sub = store.subscriptions.of_account(existing(intent.account_id, "account"))
    return sub is None or sub.version != claims.subscription_version


# How a "change" intent is settled (wired in bootstrap.settlements()).
CHANGE_SETTLEMENT = Settlement(_complete_change, _change_failed, refund_stale,
                               quote_stale)
