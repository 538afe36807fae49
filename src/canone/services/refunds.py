"""Refunds through the payment provider (SPEC §9), by staff: full or partial, never more
than was paid and not refunded yet.

A refund is a payment row of its own with a negative amount (the money going back), keyed
by the provider's refund id, so recording it twice (a retried request, the provider's
event) records it once. A pending refund (SEPA) that fails later is reversed by another
row, never edited. The invoice is `partially_refunded` while refunds that succeeded cover
part of what it was paid and `refunded` once they cover all of it. `record_refund` is the
one place a refund is recorded, and it issues the refund's credit note (SPEC §8) when the
refund has succeeded: a pending refund that fails gives nothing back, so it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from canone.billing.errors import InvalidField
from canone.billing.invoicing import InvoiceStatus
from canone.billing.money import from_minor
from canone.services import credit_notes
from canone.services.access import Actor, load_account, require_staff
from canone.services.context import (
    RETRY_AFTER_DAYS,
    Services,
    local_date,
    new_id,
    record_change,
)
from canone.services.documents import REFUND, SUPERSEDED_PAYMENT, TO_CARD, CreditNote
from canone.services.errors import (
    InvalidTransition,
    NotFound,
    PaymentPending,
    existing,
)
from canone.services.ports import (
    REFUND_FAILED,
    REFUND_SUCCEEDED,
    Dispute,
    GatewayTimeout,
    RefundRefused,
    RefundResult,
    StoredCard,
)
from canone.services.records import PAST_DUE, Invoice, Payment, PaymentStatus
from canone.services.store import Store
from canone.services.subscriptions import invoice_event, notify_admin

# The statuses of refund rows among an invoice's payments.
REFUNDED, REFUND_PENDING_ROW, REFUND_REVERSED = (
    PaymentStatus.REFUNDED, PaymentStatus.REFUND_PENDING, PaymentStatus.REFUND_FAILED)
REFUND_ROWS = frozenset({REFUNDED, REFUND_PENDING_ROW, REFUND_REVERSED})
REFUNDED_INVOICE = InvoiceStatus.REFUNDED  # once refunds cover what was paid
# The statuses a refund may move an invoice between (a disputed or open one keeps its own).
REFUND_STATUSES = frozenset({InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_REFUNDED,
                             REFUNDED_INVOICE})


@dataclass(frozen=True)
class Refund:
    id: str  # the provider's refund id (re_…)
    invoice_id: str
    amount: int  # minor units, positive: the money going back
    currency: str
    status: str  # "succeeded", "pending" or "failed" (REFUND_* of the port)
    message: str


@dataclass(frozen=True)
class Refundable:
    """What an invoice's payments allow to refund now, in minor units."""

    paid: int  # taken by succeeded charges
    refunded: int  # refunds that succeeded or are pending, less those reversed
    provider_id: str | None  # the provider's intent of the charge to refund

    @property
    def left(self) -> int:
        return self.paid - self.refunded


def refundable(store: Store, invoice: Invoice) -> Refundable:
    paid = refunded = 0
    provider_id = None
    for payment in store.payments.of_account(invoice.account_id):
        if payment.invoice_id != invoice.id:
            continue
        if payment.status == PaymentStatus.SUCCEEDED and payment.amount > 0:
            paid += payment.amount
            intent = store.payments.get_intent(payment.idempotency_key)
            provider_id = intent.provider_id if intent is not None else provider_id
        elif payment.status in REFUND_ROWS:
            refunded -= payment.amount  # refunds are negative; a reversal positive
    return Refundable(paid, refunded, provider_id)


def refund_invoice(svc: Services, actor: Actor, invoice_id: str,
                   amount: int | None = None) -> tuple[Refund, Invoice]:
    """Refund `amount` (default: all that is left) of a paid invoice through the provider,
    and record it. 422 (`amount`) beyond what is left; 409 when nothing can be refunded."""
    with svc.database.read() as store:
        invoice = store.invoices.get(invoice_id)
        try:  # another account's invoice is not found, as if it did not exist
            load_account(store, actor, invoice.account_id if invoice else "")
        except NotFound:
            raise NotFound(f"no invoice {invoice_id}") from None
        require_staff(actor, "refund invoices")
        invoice = existing(invoice, f"invoice {invoice_id}")
        can = refundable(store, invoice)
        room = credit_notes.left_on(store, invoice)
        count = sum(1 for p in store.payments.of_account(invoice.account_id)
                    if p.invoice_id == invoice.id and p.status in REFUND_ROWS)
    amount = _checked(invoice, can, room, amount)
    return refund_through_provider(svc, invoice, can, amount, count + 1, actor.name)


def refund_through_provider(svc: Services, invoice: Invoice, can: Refundable, amount: int,
                            nth: int, actor: str) -> tuple[Refund, Invoice]:
    """Refund `amount` (checked by the caller) of the invoice's charge through the provider,
    as the invoice's `nth` refund, and record it (with its credit note); the invoice after.
    Never inside a database transaction."""
    if can.provider_id is None:
        raise InvalidTransition(f"Invoice {invoice.number} was not paid through the payment"
                                " provider's intents canone keeps: refund it there.")
    # One key per refund of the invoice: a retried request (or a concurrent one) is
    # answered with the same refund by the provider, and recorded once.
    key = f"ref_{invoice.id}_{nth}"
    try:
        result = svc.gateway.refund(can.provider_id, amount, key)
    except RefundRefused as exc:
        raise InvalidTransition(f"The payment provider refused the refund: {exc}") from None
    except GatewayTimeout:
        raise PaymentPending("The payment provider did not answer. Send the same request"
                             " again: the refund is never made twice.") from None
    with svc.database.transaction() as store:
        refund = record_refund(svc, store, invoice.id, result, actor)
        after = existing(store.invoices.get(invoice.id), f"invoice {invoice.id}")
    if refund.status == REFUND_FAILED:
        raise InvalidTransition(refund.message or "The refund failed.")
    return refund, after


def _checked(invoice: Invoice, can: Refundable, room: int, amount: int | None) -> int:
    """The amount to refund: at most what was paid and not refunded yet, and at most what
    the invoice has left to credit (earlier credit notes, e.g. unused time credited to the
    balance, already gave part of it back)."""
    if can.paid <= 0:
        raise InvalidTransition(f"Invoice {invoice.number} has no payment to refund"
                                f" (it is {invoice.status}).")
    if can.left <= 0:
        raise InvalidTransition(f"Invoice {invoice.number} is refunded in full already.")
    if room <= 0:
        raise InvalidTransition(f"Invoice {invoice.number} is credited in full already by"
                                " its credit notes.")
    if amount is None:
        return min(can.left, room)
    if amount <= 0:
        raise InvalidField("amount", "must be more than 0")
    if amount > can.left:
        raise InvalidField("amount", f"at most {from_minor(can.left)} {invoice.currency} can"
                                     f" be refunded: {from_minor(can.paid)} was paid and"
                                     f" {from_minor(can.refunded)} refunded already")
    if amount > room:
        raise InvalidField("amount", f"at most {from_minor(room)} {invoice.currency} can be"
                                     " refunded: the invoice's credit notes gave back the rest")
    return amount


def record_refund(svc: Services, store: Store, invoice_id: str, result: RefundResult,
                  actor: str = "system") -> Refund:
    """Record the provider's refund against the invoice, once per refund id and status:
    a refund row (negative), or a reversal row when a pending one failed; the invoice
    `refunded` when refunds cover what was paid. The credit note (SPEC §8) is issued here."""
    invoice = existing(store.invoices.get(invoice_id), f"invoice {invoice_id}")
    # The account's row lock orders the recordings of one refund that arrive together (the
    # page's follow-up and Stripe's event): the second finds the first's rows.
    store.accounts.get(invoice.account_id, lock=True)
    invoice = existing(store.invoices.get(invoice_id), f"invoice {invoice_id}")  # as now
    existing_rows = {(p.charge_id, p.status) for p in store.payments.of_account(invoice.account_id)
                     if p.invoice_id == invoice.id}
    refund = Refund(result.refund_id, invoice.id, result.amount_minor, invoice.currency,
                    result.status, result.message)
    recorded = {status for charge, status in existing_rows if charge == result.refund_id}
    row = None
    if result.status == REFUND_FAILED:
        if recorded & {REFUNDED, REFUND_PENDING_ROW} and REFUND_REVERSED not in recorded:
            row = REFUND_REVERSED  # the money did not go back after all
    elif not recorded & {REFUNDED, REFUND_PENDING_ROW}:
        row = REFUNDED if result.status == REFUND_SUCCEEDED else REFUND_PENDING_ROW
    elif result.status == REFUND_SUCCEEDED and REFUNDED not in recorded:
        row = REFUNDED  # pending before: the rows say it succeeded, at no extra amount
    if row is not None:
        _add_row(svc, store, invoice, refund, row, actor, settled=REFUND_PENDING_ROW in recorded)
    if row == REFUNDED:
        _credit_note(svc, store, invoice, refund, actor)
    return refund


def _credit_note(svc: Services, store: Store, invoice: Invoice, refund: Refund,
                 actor: str) -> None:
    """The credit note of a refund that succeeded, once (its source is the refund id). A
    refund made at the provider beyond what the invoice has left (its dashboard knows
    nothing of canone's credit notes) is credited up to what is left."""
    if any(note.source_id == refund.id
           for note in store.documents.credit_notes_of_invoice(invoice.id)):
        return
    amount = min(refund.amount, credit_notes.left_on(store, invoice))
    if amount <= 0:
        return
    # The payment for a change that could not apply (SPEC §9) says so on its note, and
    # its customer is told: the refund is not something they asked for.
    superseded = all(line.key == SUPERSEDED_PAYMENT for line in invoice.lines)
    note = credit_notes.credit_gross(svc, store, invoice, amount,
                                     SUPERSEDED_PAYMENT if superseded else REFUND,
                                     settlement=TO_CARD, actor=actor, source_id=refund.id)
    if superseded:
        _tell_refunded(svc, store, invoice, note)


def _tell_refunded(svc: Services, store: Store, invoice: Invoice, note: CreditNote) -> None:
    """The `change_refunded` email: the change was not applied, its payment is refunded to
    the card it was taken from (its last four digits, when still the card on file)."""
    account = existing(store.accounts.get(invoice.account_id), "account")
    charged = {intent.card_token for payment in store.payments.of_account(account.id)
               if payment.invoice_id == invoice.id and payment.status == PaymentStatus.SUCCEEDED
               and (intent := store.payments.get_intent(payment.idempotency_key)) is not None}
    card = account.card.last4 if account.card and account.card.token in charged else ""
    notify_admin(svc, store, account, "change_refunded", {
        "amount": note.total, "currency": note.currency, "last4": card,
        "invoice_number": invoice.number, "credit_note_number": note.number})


def _add_row(svc: Services, store: Store, invoice: Invoice, refund: Refund, row: PaymentStatus,
             actor: str, settled: bool) -> None:
    # A pending refund that succeeds adds a zero row (its money was counted when pending).
    amount = {REFUNDED: 0 if settled else -refund.amount, REFUND_PENDING_ROW: -refund.amount,
              REFUND_REVERSED: refund.amount}[row]
    store.payments.add(Payment(
        id=new_id("pay"), account_id=invoice.account_id, invoice_id=invoice.id,
        amount=amount, currency=invoice.currency, status=row, charge_id=refund.id,
        idempotency_key=f"refund_{refund.id}_{row}", message=refund.message,
        created_at=svc.now()))
    can = refundable(store, invoice)
    rows = [p for p in store.payments.of_account(invoice.account_id) if p.invoice_id == invoice.id]
    pending = {p.charge_id for p in rows if p.status == REFUND_PENDING_ROW}
    done = {p.charge_id for p in rows if p.status in (REFUNDED, REFUND_REVERSED)}
    status = invoice.status
    if can.paid > 0 and can.left <= 0 and pending <= done:
        status = REFUNDED_INVOICE
    elif any(p.status == REFUNDED for p in rows):
        status = InvoiceStatus.PARTIALLY_REFUNDED
    if invoice.status in REFUND_STATUSES and status != invoice.status:
        store.invoices.save(invoice.but(status=status))
    record_change(svc, store, account_id=invoice.account_id, actor=actor,
                  action=f"invoice.{row}", before=None,
                  after={"invoice": invoice.number, "refund": refund.id,
                         "amount": refund.amount, "status": refund.status},
                  event="invoice.refunded" if row == REFUNDED else None,
                  data={**invoice_event(invoice), "refund_id": refund.id,
                        "refund_amount": refund.amount})


DISPUTED = InvoiceStatus.DISPUTED


def record_dispute(svc: Services, store: Store, invoice_id: str, dispute: Dispute,
                   debit: StoredCard | None = None) -> None:
    """A cardholder disputed the invoice's payment (SPEC §9): the money the bank withdrew
    is a payment row of its own (negative, once per dispute), the invoice is `disputed`,
    and staff see it in the console (the invoice's badge and the audit trail). The account
    is not restricted by it. A SEPA debit returned so (`debit`: the bank account it was
    taken from) is unpaid again instead: the invoice is open and enters the retry schedule,
    and the primary admin is told."""
    invoice = existing(store.invoices.get(invoice_id), f"invoice {invoice_id}")
    rows = store.payments.of_account(invoice.account_id)
    if any(p.charge_id == dispute.dispute_id for p in rows):
        return
    if debit is not None:
        _debit_returned(svc, store, invoice, dispute, debit)
        return
    store.payments.add(Payment(
        id=new_id("pay"), account_id=invoice.account_id, invoice_id=invoice.id,
        amount=-dispute.amount_minor, currency=invoice.currency,
        status=PaymentStatus.DISPUTED,
        charge_id=dispute.dispute_id, idempotency_key=f"dispute_{dispute.dispute_id}",
        message=dispute.reason, created_at=svc.now()))
    store.invoices.save(invoice.but(status=DISPUTED))
    record_change(svc, store, account_id=invoice.account_id, actor="system",
                  action="invoice.disputed", before={"status": invoice.status},
                  after={"invoice": invoice.number, "dispute": dispute.dispute_id,
                         "amount": dispute.amount_minor, "reason": dispute.reason},
                  event="invoice.disputed",
                  data={**invoice_event(invoice.but(status=DISPUTED)),
                        "dispute_id": dispute.dispute_id, "reason": dispute.reason})


def _debit_returned(svc: Services, store: Store, invoice: Invoice, dispute: Dispute,
                    debit: StoredCard) -> None:
    """A SEPA debit the bank returned (a failure after success, or a dispute): recorded as
    a reversal row; the invoice is unpaid again (its amount paid less what was returned,
    its document unchanged) and collected again on the first retry day from now."""
    store.payments.add(Payment(
        id=new_id("pay"), account_id=invoice.account_id, invoice_id=invoice.id,
        amount=-dispute.amount_minor, currency=invoice.currency, status=DEBIT_RETURNED,
        charge_id=dispute.dispute_id, idempotency_key=f"dispute_{dispute.dispute_id}",
        message=dispute.reason, created_at=svc.now()))
    reopened = invoice.but(status=InvoiceStatus.OPEN,
                           amount_paid=max(0, invoice.amount_paid - dispute.amount_minor),
                           # the next intent's key a new one (invoice_settlement.attempt_key); the
                           # schedule restarts from this return (invoice_settlement._schedule)
                           attempts=invoice.attempts + 1, next_attempt_at=svc.now() + timedelta(
                               days=RETRY_AFTER_DAYS[0]))
    store.invoices.save(reopened)
    record_change(svc, store, account_id=invoice.account_id, actor="system",
                  action="invoice.debit_returned", before={"status": invoice.status},
                  after={"invoice": invoice.number, "dispute": dispute.dispute_id,
                         "amount": dispute.amount_minor, "reason": dispute.reason,
                         "next_attempt_at": str(reopened.next_attempt_at)},
                  event="payment.failed",
                  data={**invoice_event(reopened), "dispute_id": dispute.dispute_id})
    account = existing(store.accounts.get(invoice.account_id), "account")
    notify_admin(svc, store, account, "debit_returned", {
        "number": invoice.number, "amount": dispute.amount_minor, "currency": invoice.currency,
        "bank_last4": debit.last4, "restricted": "still" if account.status == PAST_DUE else "no",
        "next_attempt_on": local_date(
            existing(reopened.next_attempt_at, "retry"), account.timezone).isoformat()})


DEBIT_RETURNED = PaymentStatus.DEBIT_RETURNED  # the invoice is unpaid again
