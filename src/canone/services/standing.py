"""An account's standing (SPEC §5): a past-due account is restricted until its open
invoice is paid, so it buys nothing new meanwhile; and "Pay now", which collects the open
invoice with the card on file at once instead of waiting for the next retry."""

from __future__ import annotations

from canone.billing.money import from_minor
from canone.services import collection, invoice_settlement, payments
from canone.services.access import Actor, load_account, require_billing
from canone.services.context import Services
from canone.services.errors import (
    AccountRestricted,
    NotFound,
    PaymentFailed,
    PaymentPending,
    existing,
)
from canone.services.payloads import Declined, InvoicePayload
from canone.services.payments import FAILED, PENDING
from canone.services.records import PAST_DUE, Account, Invoice, InvoiceStatus, PaymentIntent
from canone.services.store import Store

OPEN = InvoiceStatus.OPEN


def open_invoices(store: Store, account_id: str) -> list[Invoice]:
    """The account's unpaid invoices, oldest first."""
    found = [i for i in store.invoices.of_account(account_id, 1000, None) if i.status == OPEN]
    return sorted(found, key=lambda invoice: (invoice.issued_at, invoice.number))


def refuse_purchase_while_past_due(store: Store, account: Account) -> None:
    """Upgrades, add-ons, seats and contacts are purchases: a past-due account is told to
    pay what it owes first (reductions and requests to support stay possible)."""
    if account.status != PAST_DUE:
        return
    unpaid = open_invoices(store, account.id)
    owed = ", ".join(f"{i.number} ({from_minor(i.amount_due)} {i.currency})"
                     for i in unpaid) or "the open invoice"
    raise AccountRestricted(f"The account is past due: pay {owed} first. New purchases are "
                            "blocked until it is paid.")


def pay_invoice(svc: Services, actor: Actor, invoice_id: str) -> Invoice:
    """Charge an open invoice now with the card on file: its next collection attempt,
    brought forward and made through the same path as the retries (one intent per attempt,
    keyed, so the card network charges an attempt once). A paid invoice is returned as it
    is; an attempt still in flight is not started again (`PaymentPending`); a declined
    attempt counts as one and raises `PaymentFailed`."""
    with svc.database.transaction() as store:
        invoice = store.invoices.get(invoice_id)
        if invoice is None:
            raise NotFound(f"no invoice {invoice_id}")
        try:
            account = load_account(store, actor, invoice.account_id, lock=True)
        except NotFound:
            raise NotFound(f"no invoice {invoice_id}") from None
        require_billing(store, actor, account.id, "pay invoices")
        if invoice.status != OPEN:
            return invoice
        if account.card is None:
            raise PaymentFailed("There is no card on file: add a card to pay.", "no_card")
        in_flight = store.payments.get_intent(invoice_settlement.attempt_key(invoice))
        if in_flight is None:
            store.invoices.save(invoice.but(next_attempt_at=svc.now()))
    if in_flight is None:
        # The customer is here: their bank may ask them to authenticate (SPEC §9).
        collection.collect(svc, svc.now(), account_id=invoice.account_id, on_session=True)
    with svc.database.read() as store:
        after = existing(store.invoices.get(invoice_id), f"invoice {invoice_id}")
        if after.status != OPEN:
            return after
        tried = store.payments.get_intent(invoice_settlement.attempt_key(after, after.attempts))
        in_flight = store.payments.get_intent(invoice_settlement.attempt_key(after))
    if in_flight is not None:
        return _finish(svc, in_flight)
    if tried is not None and tried.status == PENDING:
        raise _in_flight()
    declined = (Declined.from_json(tried.result)
                if tried is not None and tried.status == FAILED and tried.result else None)
    raise PaymentFailed((declined.message if declined else "") or "The card was declined.",
                        (declined.decline_code if declined else "") or "declined")


def _finish(svc: Services, intent: PaymentIntent) -> Invoice:
    """The invoice paid by an attempt in flight, as the provider has it now: settled once
    it is final; `PaymentActionRequired` while the customer's bank waits for them (the
    page's Stripe.js finishes it), `PaymentPending` while it is processing. Never a second
    charge: an intent the provider has is read, not confirmed again (`payments.charge`)."""
    if intent.status == PENDING:
        if intent.provider_id is None:  # not at the provider yet: reconciliation settles it
            raise _in_flight()
        payments.settle(svc, intent.key, payments.charge(svc, intent))
    with svc.database.read() as store:
        return existing(store.invoices.get(InvoicePayload.from_json(intent.payload).invoice_id),
                        "invoice")


def _in_flight() -> PaymentPending:
    return PaymentPending("This invoice's payment is being processed; it is never taken "
                          "twice. Check again in a minute.")
