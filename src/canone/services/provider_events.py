"""Events from the payment provider (SPEC §9: Stripe's webhooks), applied idempotently.

Events come at least once and in any order, so none is applied as it reads: the provider
is asked for the object's state now, and that state is applied through functions that
record it once (`payments.settle` settles each of canone's intents once; a refund or a
dispute is recorded once per provider id; a card saved once). An event id seen before is
a no-op answered with what it did the first time; a repeated or out-of-date event under
another id finds its effect already there and changes nothing.
"""

from __future__ import annotations

from contextlib import suppress

from canone.services import accounts, idempotency, refunds
from canone.services.access import SYSTEM_ACTOR
from canone.services.context import Services, record_change
from canone.services.errors import PaymentFailed
from canone.services.payloads import InvoicePayload, Settled
from canone.services.payment_methods import is_sepa
from canone.services.payments import PENDING, SUCCEEDED, afterwards, settle
from canone.services.ports import (
    PaymentEvent,
    ProviderObjects,
    RefundResult,
    SavedMethod,
    StoredCard,
)
from canone.services.records import Account, IdempotencyRecord, PaymentIntent
from canone.services.store import Store

IGNORED = "ignored"  # not about one of canone's payments, accounts or invoices
OPEN = "open"  # the payment or set-up is still open: nothing to apply yet
SETTLED = "settled"  # canone's intent is settled (now, or by an earlier event or request)
RECORDED = "recorded"  # a refund or dispute is recorded against its invoice (now or before)
SAVED = "saved"  # the account's card is the payment method the event is about

EVENTS = "provider-events"  # the idempotency scope of the provider's event ids


def apply_payment_event(svc: Services, event: PaymentEvent) -> str:
    """Apply what the event is about, as the provider has it now; what was done. An event
    id seen before is answered with what it did then, and does nothing."""
    seen = idempotency.stored(svc, EVENTS, event.id)
    if seen is not None:
        return seen.body.decode()
    result = _apply(svc, event)
    idempotency.keep(svc, IdempotencyRecord(EVENTS, event.id, event.type, 200,
                                            result.encode(), svc.now()))
    return result


def _apply(svc: Services, event: PaymentEvent) -> str:
    if event.object_type == "payment_intent":
        return _payment(svc, event.object_id)
    provider = svc.gateway
    if not isinstance(provider, ProviderObjects):
        return IGNORED
    if event.object_type == "refund":
        return _refunds(svc, [svc.gateway.refund_outcome(event.object_id)])
    if event.object_type == "charge" and event.type == "charge.refunded":
        return _refunds(svc, provider.refunds_of_charge(event.object_id))
    if event.object_type == "dispute":
        return _dispute(svc, provider, event.object_id)
    if event.object_type == "setup_intent":
        return _setup(svc, provider, event.object_id)
    if event.object_type == "payment_method" and event.type.endswith("automatically_updated"):
        return _card_updated(svc, provider, event.object_id)
    if event.object_type == "payment_method" and event.type.endswith("detached"):
        return _card_detached(svc, provider, event.object_id)
    return IGNORED


def _payment(svc: Services, provider_id: str) -> str:
    outcome = svc.gateway.charge_outcome(provider_id)
    if outcome.key is None:
        return IGNORED  # not opened by canone
    if not outcome.final:
        return OPEN
    with svc.database.read() as store:
        intent = store.payments.get_intent(outcome.key)
    if intent is None:
        return IGNORED
    if intent.status == PENDING:
        with suppress(PaymentFailed):  # recorded as failed; its owner was told
            settle(svc, outcome.key, outcome)
    elif (intent.status == SUCCEEDED and intent.result is not None
          and Settled.from_json(intent.result).credited):
        # A stale change's refund that a crash left undone (SPEC §9) is asked for again;
        # any other settled intent needs nothing more, so no transaction is opened.
        afterwards(svc, outcome.key)
    return SETTLED


def invoice_paid_by(svc: Services, provider_id: str | None) -> str | None:
    """The invoice a provider's intent paid, if canone opened it and it issued one."""
    found = _paid_by(svc, provider_id)
    return None if found is None else found[1]


def _paid_by(svc: Services, provider_id: str | None) -> tuple[PaymentIntent, str] | None:
    """canone's intent behind a provider's intent, and the invoice it paid."""
    if not provider_id:
        return None
    key = svc.gateway.charge_outcome(provider_id).key
    with svc.database.read() as store:
        intent = store.payments.get_intent(key) if key else None
    if intent is None:
        return None
    if intent.purpose == "invoice":
        found: str | None = InvoicePayload.from_json(intent.payload).invoice_id
    else:  # a change or a sign-up: the invoice it issued, once settled
        found = (Settled.from_json(intent.result).invoice_id
                 if intent.status == SUCCEEDED and intent.result else None)
    return (intent, found) if found else None


def _refunds(svc: Services, found: list[RefundResult]) -> str:
    result = IGNORED
    for refund in found:
        invoice_id = invoice_paid_by(svc, refund.provider_id)
        if invoice_id is not None:
            with svc.database.transaction() as store:
                refunds.record_refund(svc, store, invoice_id, refund)
            result = RECORDED
    return result


def _dispute(svc: Services, provider: ProviderObjects, dispute_id: str) -> str:
    dispute = provider.dispute(dispute_id)
    found = _paid_by(svc, dispute.provider_id)
    if found is None:
        return IGNORED
    intent, invoice_id = found
    # A SEPA debit returned by the bank makes the invoice unpaid again (SPEC §9).
    method = provider.saved_method(intent.card_token).card
    with svc.database.transaction() as store:
        refunds.record_dispute(svc, store, invoice_id, dispute,
                               method if is_sepa(method) else None)
    return RECORDED


def _setup(svc: Services, provider: ProviderObjects, setup_id: str) -> str:
    """A card (or bank account) set up on the provider's form becomes the card on file,
    as the page's own follow-up makes it; once."""
    saved = provider.setup_method(setup_id)
    if saved is None:
        return OPEN  # not succeeded (or failed: the customer is told on the page)
    with svc.database.read() as store:
        account = _account_of(store, saved)
    if account is None:
        return IGNORED
    if account.card is None or account.card.token != saved.card.token:
        accounts.update_card(svc, SYSTEM_ACTOR, account.id, saved.card.token)
    return SAVED


def _card_updated(svc: Services, provider: ProviderObjects, payment_method: str) -> str:
    """The card network renewed the card (new expiry or number): keep what is shown."""
    with svc.database.read() as store:
        if store.accounts.account_with_card(payment_method) is None:
            return IGNORED  # not a card on file here: Stripe need not be asked
    saved = provider.saved_method(payment_method)
    with svc.database.transaction() as store:
        account = _account_of(store, saved, lock=True)
        if account is None or account.card is None or account.card.token != payment_method:
            return IGNORED
        # What is shown and audited: the card read back may lack what Stripe adds (its
        # bank's country), and that alone must not count as a change at every delivery.
        if _shown(account.card) != _shown(saved.card):
            store.accounts.save(account.but(card=saved.card))
            record_change(svc, store, account_id=account.id, actor="system",
                          action="account.card_updated",
                          before={"last4": account.card.last4, "exp_month":
                                  account.card.exp_month, "exp_year": account.card.exp_year},
                          after={"last4": saved.card.last4, "exp_month": saved.card.exp_month,
                                 "exp_year": saved.card.exp_year}, event="account.updated")
    return SAVED


def _shown(card: StoredCard) -> tuple[str, str, int, int]:
    return card.brand, card.last4, card.exp_month, card.exp_year


def _account_of(store: Store, saved: SavedMethod, lock: bool = False) -> Account | None:
    """The account whose provider customer holds the payment method."""
    found = store.accounts.account_of_payment_customer(saved.customer) if saved.customer else None
    return store.accounts.get(found, lock=lock) if found else None


REMOVED = "removed"  # the account's card was detached at the provider: no card on file


def _card_detached(svc: Services, provider: ProviderObjects, payment_method: str) -> str:
    """A card removed at the provider (the dashboard, the customer's bank) cannot be charged:
    the account has no card on file until one is added, which the page asks for."""
    with svc.database.read() as store:
        if store.accounts.account_with_card(payment_method) is None:
            return IGNORED  # not a card on file here: Stripe need not be asked
    if provider.saved_method(payment_method).customer is not None:
        return IGNORED  # attached again meanwhile (events come in any order)
    with svc.database.transaction() as store:
        found = store.accounts.account_with_card(payment_method)
        account = store.accounts.get(found, lock=True) if found else None
        if account is None or account.card is None or account.card.token != payment_method:
            return IGNORED
        store.accounts.save(account.but(card=None))
        record_change(svc, store, account_id=account.id, actor="system",
                      action="account.card_removed", before={"last4": account.card.last4},
                      after={"card": None}, event="account.updated")
    return REMOVED
