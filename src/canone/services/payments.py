"""Taking money safely: an intent is committed before the card is charged, the gateway's
idempotency key is the intent's key, and an outcome lost to a crash or a time-out is
settled later by `reconcile` instead of charging again."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from canone.services.context import Services, new_id
from canone.services.errors import PaymentFailed, PaymentPending
from canone.services.ports import ChargeResult, GatewayTimeout
from canone.services.records import Payment, PaymentIntent
from canone.services.store import Store

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"

# What to do once an intent's charge succeeded, by purpose; registered by the use cases.
# Each runs inside a transaction and returns the result stored for replays.
Completion = Callable[[Services, Store, PaymentIntent, ChargeResult], dict[str, Any]]
COMPLETIONS: dict[str, Completion] = {}
# What to do when it failed (record the failure; notify), by purpose.
Failure = Callable[[Services, Store, PaymentIntent, ChargeResult], None]
FAILURES: dict[str, Failure] = {}


def charge(svc: Services, intent: PaymentIntent) -> ChargeResult:
    """Phase B: ask the card network. Never inside a database transaction."""
    try:
        return svc.gateway.charge(intent.card_token, intent.amount, intent.currency, intent.key)
    except GatewayTimeout:
        raise PaymentPending(
            "The card network did not answer in time. The payment is being checked and will "
            "never be taken twice; the change applies as soon as it is confirmed."
        ) from None


def settle(svc: Services, key: str, outcome: ChargeResult) -> dict[str, Any]:
    """Phase C: record the outcome of the intent's charge, exactly once."""
    with svc.database.transaction() as store:
        result = settle_in(svc, store, key, outcome)
    if result is None:
        raise PaymentFailed(outcome.message or "The card was declined.", outcome.status)
    return result


def settle_in(svc: Services, store: Store, key: str, outcome: ChargeResult,
              complete: Completion | None = None) -> dict[str, Any] | None:
    """`settle` inside the caller's transaction: the stored result, or None when the charge
    failed (recorded, and the owner told). An intent that failed before raises.

    `complete` stands in for the purpose's registered completion, for a caller that wants
    more out of it than the stored result (e.g. the invoice it issued)."""
    intent = store.get_intent(key, lock=True)
    if intent is None:
        raise LookupError(f"no payment intent {key}")
    if intent.status == SUCCEEDED and intent.result is not None:
        return intent.result
    if intent.status == FAILED:
        raise PaymentFailed(intent.result.get("message", "declined") if intent.result
                            else "declined")
    if not outcome.succeeded:
        FAILURES[intent.purpose](svc, store, intent, outcome)
        store.save_intent(intent.but(status=FAILED, result={
            "message": outcome.message, "decline_code": outcome.status}))
        return None
    result = (complete or COMPLETIONS[intent.purpose])(svc, store, intent, outcome)
    store.save_intent(intent.but(status=SUCCEEDED, result=result))
    return result


def pay(svc: Services, intent: PaymentIntent) -> dict[str, Any]:
    """Charge an intent that the caller has committed, as it read or wrote it there (no
    second read), and settle it. One that is no longer pending is settled with its own
    outcome; one that another request settled meanwhile is charged again with its key,
    which the network answers without charging twice, and `settle` finds it settled."""
    if intent.status != PENDING:
        return settle(svc, intent.key, ChargeResult(intent.status, None))
    return settle(svc, intent.key, charge(svc, intent))


def record_payment(svc: Services, store: Store, intent: PaymentIntent, outcome: ChargeResult,
                   account_id: str, invoice_id: str | None) -> None:
    store.add_payment(Payment(
        id=new_id("pay"), account_id=account_id, invoice_id=invoice_id, amount=intent.amount,
        currency=intent.currency, status=SUCCEEDED if outcome.succeeded else FAILED,
        charge_id=outcome.charge_id, idempotency_key=intent.key, message=outcome.message,
        created_at=svc.now(),
    ))


def reconcile(svc: Services, older_than: timedelta = timedelta(seconds=30),
              limit: int = 500) -> int:
    """Settle intents left pending by a crash or a time-out; returns how many. One still
    open at the provider (a SEPA debit processing, a bank asking the customer) stays
    pending: it is not a failure, and a later pass or the provider's event settles it."""
    with svc.database.transaction() as store:
        stuck = store.pending_intents(svc.now() - older_than, limit)
    settled = 0
    for intent in stuck:
        found = svc.gateway.lookup(intent.key)
        if found is not None and not found.final:
            continue
        outcome = found or ChargeResult(FAILED, None, "The charge never reached the card network.")
        with suppress(PaymentFailed):  # recorded as failed; its owner was told
            settle(svc, intent.key, outcome)
        settled += 1
    return settled
