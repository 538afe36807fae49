"""Taking money safely: an intent is committed before the card is charged, the gateway's
idempotency key is the intent's key, and an outcome lost to a crash or a time-out is
settled later by `reconcile` instead of charging again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from canone.services.context import Completion, Services, Settlement, new_id
from canone.services.errors import PaymentActionRequired, PaymentFailed, PaymentPending
from canone.services.payloads import Declined, InvoicePayload, Settled
from canone.services.ports import (
    CANCELED,
    CARRIED,
    DECLINED,
    REQUIRES_ACTION,
    REQUIRES_CONFIRMATION,
    STALE_QUOTE,
    BelowMinimumCharge,
    CardRejected,
    ChargeRequest,
    ChargeResult,
    GatewayTimeout,
)
from canone.services.records import IntentStatus, Payment, PaymentIntent, PaymentStatus
from canone.services.store import Store

PENDING, SUCCEEDED, FAILED = IntentStatus.PENDING, IntentStatus.SUCCEEDED, IntentStatus.FAILED

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def charge(svc: Services, intent: PaymentIntent, just_opened: bool = False) -> ChargeResult:
    """Phase B: ask the provider. Never inside a database transaction. Its intent is opened
    and its id stored in canone's intent (a transaction of its own) before it is confirmed,
    so that an outcome lost to a crash is read back by that id (`outcome_of`). One opened
    before is confirmed only if the provider says it never was (`just_opened`: the caller
    opened it a moment ago, see `open_charges`, and the provider need not be asked)."""
    if intent.amount <= 0:  # nothing to take: a zero amount is never sent
        return ChargeResult(SUCCEEDED, None)
    request = charge_request(intent)
    provider_id = intent.provider_id
    if provider_id is None:
        with _pending_on_timeout():
            try:
                provider_id = svc.gateway.open_charge(request)
            except BelowMinimumCharge as exc:
                return below_minimum(intent, exc)
            except CardRejected as exc:  # e.g. a payment method detached at the provider
                return ChargeResult(DECLINED, None, exc.message)
        _store_provider_ids(svc, [(intent.key, provider_id)])
    elif not just_opened:
        # Charged before (a follow-up after 3-D Secure, a retry after a crash): what the
        # provider has decides; only an intent never confirmed is confirmed now.
        with _pending_on_timeout():
            found = svc.gateway.charge_outcome(provider_id)
        if found.status != REQUIRES_CONFIRMATION:
            return _final(found)
    return confirm(svc, provider_id, request)


def open_charges(svc: Services, intents: list[PaymentIntent]) -> list[PaymentIntent]:
    """The intents, those to charge opened at the provider and their ids stored, in one
    transaction for them all. One that could not be opened (no answer, an amount under
    the minimum, a card the provider no longer takes) is left unopened: `charge` meets
    its failure again, on its own."""
    def open_one(intent: PaymentIntent) -> tuple[str, str] | None:
        with suppress(GatewayTimeout, BelowMinimumCharge, CardRejected):
            return intent.key, svc.gateway.open_charge(charge_request(intent))
        return None

    to_open = [intent for intent in intents if intent.amount > 0 and intent.provider_id is None]
    opened = [o for o in at_provider(svc, open_one, to_open) if o is not None]
    _store_provider_ids(svc, opened)
    ids = dict(opened)
    return [intent.but(provider_id=ids[intent.key]) if intent.key in ids else intent
            for intent in intents]


def at_provider(svc: Services, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`call` on each item, up to `svc.charges_in_flight` at once; the results in the items'
    order. An error is raised (the first in that order) once every call has ended: none is
    left running behind the caller, and each took its own idempotency key."""
    if svc.charges_in_flight <= 1 or len(items) <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(min(svc.charges_in_flight, len(items))) as pool:
        return list(pool.map(call, items))


def _store_provider_ids(svc: Services, opened: list[tuple[str, str]]) -> None:
    if opened:
        with svc.database.transaction() as store:
            store.payments.save_provider_ids(opened)


# What can be carried to the account's next invoice when under the provider's minimum: a
# plan change and a collected invoice. A sign-up has no account (nor next invoice) yet.
CARRIABLE = frozenset({"change", "invoice"})


def below_minimum(intent: PaymentIntent, exc: BelowMinimumCharge) -> ChargeResult:
    """Nothing was charged (SPEC §9): the amount is carried to the account's next invoice
    (CARRIED, which settles the intent), or, for a sign-up, fails with the reason."""
    minimum = f"{exc.minimum_minor // 100}.{exc.minimum_minor % 100:02d} {exc.currency}"
    message = f"The amount is below the smallest charge the payment provider takes ({minimum})."
    if intent.purpose in CARRIABLE:
        return ChargeResult(CARRIED, None, message + " It is added to the next invoice.")
    return ChargeResult(DECLINED, None, message)


def charge_request(intent: PaymentIntent) -> ChargeRequest:
    """Renewals and retries (invoices) are charged with the customer away (off session),
    unless the customer pays the invoice on the billing page (`on_session` in its payload)."""
    off_session = (intent.purpose == "invoice"
                   and not InvoicePayload.from_json(intent.payload).on_session)
    return ChargeRequest(intent.key, intent.card_token, intent.amount, intent.currency,
                         off_session=off_session)


def confirm(svc: Services, provider_id: str, request: ChargeRequest) -> ChargeResult:
    """Confirm an opened intent. One still open at the provider (a bank asking the customer,
    a debit processing) is pending: reconciliation or the provider's event settles it."""
    with _pending_on_timeout():
        outcome = svc.gateway.confirm_charge(provider_id, request)
    return _final(outcome)


def _final(outcome: ChargeResult) -> ChargeResult:
    """The outcome, when final; otherwise why it is not: the customer's bank asks them to
    authenticate (`PaymentActionRequired`, with what the page's Stripe.js needs), or it is
    still open at the provider (`PaymentPending`)."""
    if outcome.status == REQUIRES_ACTION and outcome.client_secret and outcome.provider_id:
        raise PaymentActionRequired(ACTION_MESSAGE, outcome.provider_id, outcome.client_secret)
    if not outcome.final:
        raise PaymentPending(PENDING_MESSAGE)
    return outcome


PENDING_MESSAGE = ("The card network did not answer in time. The payment is being checked and"
                   " will never be taken twice; the change applies as soon as it is confirmed.")
ACTION_MESSAGE = ("Your bank asks you to authenticate this payment (3-D Secure). Nothing is"
                  " applied until the payment succeeds.")
# An on-session payment whose customer never finished their bank's challenge: its quote is
# stale by then (a quote is for its day), so reconciliation cancels it (SPEC §9).
ABANDONED_AFTER = timedelta(days=1)


@contextmanager
def _pending_on_timeout() -> Iterator[None]:
    try:
        yield
    except GatewayTimeout:
        raise PaymentPending(PENDING_MESSAGE) from None


def outcome_of(svc: Services, intent: PaymentIntent) -> ChargeResult | None:
    """What the provider has for a pending intent: by the id stored when it was opened, or,
    for one opened before ids were stored, by its key; None when it never reached the
    provider."""
    if intent.provider_id is None:
        return svc.gateway.lookup(intent.key)
    return svc.gateway.charge_outcome(intent.provider_id)


NEVER_REACHED = "The charge never reached the card network."


def _reconciled(svc: Services, intent: PaymentIntent) -> ChargeResult | None:
    """The outcome reconciliation settles an intent with, None to leave it open. One opened
    and never confirmed (the process died in between) is canceled, not charged behind the
    customer's back: it fails as one that never reached the network did."""
    found = outcome_of(svc, intent)
    if found is not None and intent.provider_id and found.status in OPEN_AT_PROVIDER:
        cancelled = cancelled_if_stale(svc, intent, intent.provider_id)
        if cancelled is not None:
            return cancelled if cancelled.final else None
    abandoned = (found is not None and found.status == REQUIRES_ACTION
                 and svc.now() - intent.created_at > ABANDONED_AFTER)
    if found is not None and intent.provider_id and (
            found.status == REQUIRES_CONFIRMATION or abandoned):
        found = svc.gateway.cancel_charge(intent.provider_id)
    if found is None or found.status == CANCELED:
        return ChargeResult(FAILED, None, NEVER_REACHED)
    return found if found.final else None


# Open at the provider and not yet taking money: cancelled when what it buys went stale
# (SPEC §9). A SEPA debit `processing` is under way and is not.
OPEN_AT_PROVIDER = frozenset({REQUIRES_ACTION, REQUIRES_CONFIRMATION})
STALE_MESSAGE = ("The price changed before the payment finished: the payment was cancelled"
                 " and nothing was charged.")


def cancelled_if_stale(svc: Services, intent: PaymentIntent, provider_id: str
                       ) -> ChargeResult | None:
    """An intent still open at the provider whose purpose went stale (SPEC §9: a quote
    another change overtook), cancelled there: STALE_QUOTE to settle it with, or, when it
    finished meanwhile (the customer completed 3-D Secure), what the provider has. None:
    not stale."""
    stale = settlement_of(svc, intent).stale
    if stale is None or not stale(svc, intent):
        return None
    found = svc.gateway.cancel_charge(provider_id)
    return ChargeResult(STALE_QUOTE, None, STALE_MESSAGE) if found.status == CANCELED else found


def settle(svc: Services, key: str, outcome: ChargeResult) -> Settled:
    """Phase C: record the outcome of the intent's charge, exactly once."""
    with svc.database.transaction() as store:
        result = settle_in(svc, store, key, outcome)
    if result is None:
        raise PaymentFailed(outcome.message or "The card was declined.", outcome.status)
    if result.credited:  # paid for a change that was not applied: given back now
        afterwards(svc, key)
    return result


def afterwards(svc: Services, key: str) -> None:
    """Run the settled intent's `Settlement.afterwards`, outside any transaction."""
    with svc.database.read() as store:
        intent = store.payments.get_intent(key)
    after = settlement_of(svc, intent).afterwards if intent is not None else None
    if after is not None:
        after(svc, key)


def settle_in(svc: Services, store: Store, key: str, outcome: ChargeResult,
              complete: Completion | None = None) -> Settled | None:
    """`settle` inside the caller's transaction: the stored result, or None when the charge
    failed (recorded, and the owner told). An intent that failed before raises.

    `complete` stands in for the purpose's registered completion, for a caller that wants
    more out of it than the stored result (e.g. the invoice it issued)."""
    intent = store.payments.get_intent(key, lock=True)
    if intent is None:
        raise LookupError(f"no payment intent {key}")
    if intent.status == SUCCEEDED and intent.result is not None:
        return Settled.from_json(intent.result)
    if intent.status == FAILED:
        raise failed_before(intent)
    settlement = settlement_of(svc, intent)
    if not outcome.settles:
        settlement.fail(svc, store, intent, outcome)
        store.payments.save_intent(intent.but(status=FAILED, password_hash=None, result=Declined(
            outcome.message, outcome.status).to_json()))
        return None
    result = (complete or settlement.complete)(svc, store, intent, outcome)
    store.payments.save_intent(intent.but(status=SUCCEEDED, result=result.to_json(),
                                          password_hash=None))
    return result


def failed_before(intent: PaymentIntent) -> PaymentFailed:
    """The error of an intent that failed before, with why it failed (e.g. the bank's
    challenge failed), however often it is asked again."""
    if not intent.result:
        return PaymentFailed("The card was declined.")
    declined = Declined.from_json(intent.result)
    return PaymentFailed(declined.message or "The card was declined.",
                         declined.decline_code or "declined")


def settlement_of(svc: Services, intent: PaymentIntent) -> Settlement:
    try:
        return svc.settlements[intent.purpose]
    except KeyError:
        raise LookupError(f"payment intent {intent.key}: nothing settles the purpose "
                          f"{intent.purpose!r}; the services were built without it (build "
                          "them with canone.bootstrap.settlements())") from None


def pay(svc: Services, intent: PaymentIntent) -> Settled:
    """Charge an intent that the caller has committed, as it read or wrote it there (no
    second read), and settle it. One that is no longer pending is settled with its own
    outcome; one that another request settled meanwhile is charged again with its key,
    which the network answers without charging twice, and `settle` finds it settled."""
    if intent.status != PENDING:
        return settle(svc, intent.key, ChargeResult(intent.status, None))
    return settle(svc, intent.key, charge(svc, intent))


def record_payment(svc: Services, store: Store, intent: PaymentIntent, outcome: ChargeResult,
                   account_id: str, invoice_id: str | None) -> None:
    store.payments.add(Payment(
        id=new_id("pay"), account_id=account_id, invoice_id=invoice_id, amount=intent.amount,
        currency=intent.currency,
        status=PaymentStatus.SUCCEEDED if outcome.succeeded else PaymentStatus.FAILED,
        charge_id=outcome.charge_id, idempotency_key=intent.key, message=outcome.message,
        created_at=svc.now(),
    ))


@dataclass(frozen=True)
class RefundNotMade:
    """A stale quote's refund that reconciliation asked for again and could not make."""

    invoice: str  # the invoice's number
    reason: str
    until: datetime  # each reconciliation asks again until then (REFUNDS_LOOKED_BACK)


@dataclass
class Reconciliation:
    """What a reconciliation did: intents settled (paid or declined), those that could
    not be settled (left pending for the next run), each with the reason, and the refunds
    it could not make."""

    settled: int = 0
    errors: list[str] = field(default_factory=list)
    refunds: list[RefundNotMade] = field(default_factory=list)


def reconcile(svc: Services, older_than: timedelta = timedelta(seconds=30),
              limit: int = 500) -> int:
    """Settle intents left pending by a crash or a time-out; returns how many. One still
    open at the provider (a SEPA debit processing, a bank asking the customer) stays
    pending: it is not a failure, and a later pass or the provider's event settles it."""
    return reconcile_all(svc, older_than, limit).settled


def reconcile_all(svc: Services, older_than: timedelta = timedelta(seconds=30),
                  limit: int = 500) -> Reconciliation:
    """`reconcile`, saying what could not be settled or refunded. Each intent is settled on
    its own: one that fails (a bug, a row that no longer fits) is logged and left pending,
    and the others go on, or one bad intent would hold back every payment behind it. A
    stale quote's payment settled here is refunded with those a crash left unrefunded."""
    with svc.database.transaction() as store:
        stuck = store.payments.pending_intents(svc.now() - older_than, limit)
    report = Reconciliation()
    for intent in stuck:
        try:
            outcome = _reconciled(svc, intent)
            if outcome is None:
                continue
            with svc.database.transaction() as store:  # None: recorded as failed, owner told
                settle_in(svc, store, intent.key, outcome)  # a stale quote's refund: below
        except PaymentFailed:  # settled as failed meanwhile; its owner was told
            pass
        except Exception as exc:  # logged and left pending; the rest go on
            reason = _failed(intent, exc, "settle")
            report.errors.append(
                f"{intent.key} ({intent.purpose}): {type(exc).__name__}: {reason}")
            continue
        report.settled += 1
    _finish_refunds(svc, limit, report)
    return report


# How far back reconciliation looks for a stale quote's payment left unrefunded: past the
# 14 business days a SEPA debit may take to succeed after its intent was opened.
REFUNDS_LOOKED_BACK = timedelta(days=60)


def _finish_refunds(svc: Services, limit: int, report: Reconciliation) -> None:
    """Ask again for the refunds of stale quotes' payments (SPEC §9) that a crash between
    settling and refunding left undone, rather than wait for the provider to send its event
    again or the customer to confirm again. Asking is idempotent (`Settlement.afterwards`):
    a refund already recorded stops it, and the provider's key makes concurrent asks one."""
    with svc.database.read() as store:
        left = store.payments.unrefunded_stale(svc.now() - REFUNDS_LOOKED_BACK, limit)
    for intent in left:
        try:
            afterwards(svc, intent.key)
        except Exception as exc:  # logged; the next pass asks again (while it looks back)
            reason = _failed(intent, exc, "refund")
            with svc.database.read() as store:
                invoice = store.invoices.get(str((intent.result or {}).get("invoice_id")))
            report.refunds.append(RefundNotMade(
                invoice.number if invoice else "?", reason,
                intent.created_at + REFUNDS_LOOKED_BACK))


def _failed(intent: PaymentIntent, exc: Exception, what: str) -> str:
    """Log why the intent could not be settled or refunded; the reason, in a line."""
    reason = (str(exc).strip().splitlines() or [""])[0]
    log.error("could not %s payment intent %s (%s): %s: %s", what, intent.key, intent.purpose,
              type(exc).__name__, reason)
    log.debug("%s of %s failed", what, intent.key, exc_info=True)
    return reason


def settle_known(svc: Services, account_id: str) -> None:
    """Reconciliation, at once, for the account's newest pending intent (a request that
    died left it): settle it when the card network has an answer for its key. One the
    network never saw is left alone: the request that runs again charges it, or, failing
    that, reconciliation settles it as failed."""
    with svc.database.read() as store:
        intent = store.payments.pending_intent_of(account_id)
    outcome = None if intent is None else outcome_of(svc, intent)
    if intent is not None and outcome is not None and outcome.final:
        with suppress(PaymentFailed):  # recorded as failed; its owner was told
            settle(svc, intent.key, outcome)
