"""Taking money safely: an intent is committed before the card is charged, the gateway's
idempotency key is the intent's key, and an outcome lost to a crash or a time-out is
settled later by `reconcile` instead of charging again."""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from canone.services.context import Completion, Services, Settlement, new_id
from canone.services.errors import PaymentFailed, PaymentPending
from canone.services.ports import ChargeResult, GatewayTimeout
from canone.services.records import Payment, PaymentIntent
from canone.services.store import Store

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"

log = logging.getLogger(__name__)


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
    settlement = settlement_of(svc, intent)
    if not outcome.succeeded:
        settlement.fail(svc, store, intent, outcome)
        store.save_intent(intent.but(status=FAILED, result={
            "message": outcome.message, "decline_code": outcome.status}))
        return None
    result = (complete or settlement.complete)(svc, store, intent, outcome)
    store.save_intent(intent.but(status=SUCCEEDED, result=result))
    return result


def settlement_of(svc: Services, intent: PaymentIntent) -> Settlement:
    try:
        return svc.settlements[intent.purpose]
    except KeyError:
        raise LookupError(f"payment intent {intent.key}: nothing settles the purpose "
                          f"{intent.purpose!r}; the services were built without it (build "
                          "them with canone.bootstrap.settlements())") from None


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


@dataclass
class Reconciliation:
    """What a reconciliation did: intents settled (paid or declined), and those that could
    not be settled (left pending for the next run), each with the reason."""

    settled: int = 0
    errors: list[str] = field(default_factory=list)


def reconcile(svc: Services, older_than: timedelta = timedelta(seconds=30),
              limit: int = 500) -> int:
    """Settle intents left pending by a crash or a time-out; returns how many. One still
    open at the provider (a SEPA debit processing, a bank asking the customer) stays
    pending: it is not a failure, and a later pass or the provider's event settles it."""
    return reconcile_all(svc, older_than, limit).settled


def reconcile_all(svc: Services, older_than: timedelta = timedelta(seconds=30),
                  limit: int = 500) -> Reconciliation:
    """`reconcile`, saying what could not be settled. Each intent is settled on its own:
    one that fails (a bug, a row that no longer fits) is logged and left pending, and the
    others go on, or one bad intent would hold back every payment behind it."""
    with svc.database.transaction() as store:
        stuck = store.pending_intents(svc.now() - older_than, limit)
    report = Reconciliation()
    for intent in stuck:
        try:
            found = svc.gateway.lookup(intent.key)
            if found is not None and not found.final:
                continue
            outcome = found or ChargeResult(
                FAILED, None, "The charge never reached the card network.")
            settle(svc, intent.key, outcome)
        except PaymentFailed:  # recorded as failed; its owner was told
            pass
        except Exception as exc:  # logged and left pending; the rest go on
            reason = (str(exc).strip().splitlines() or [""])[0]
            problem = f"{intent.key} ({intent.purpose}): {type(exc).__name__}: {reason}"
            log.error("could not settle payment intent %s", problem)
            log.debug("settling %s failed", intent.key, exc_info=True)
            report.errors.append(problem)
            continue
        report.settled += 1
    return report


def settle_known(svc: Services, account_id: str) -> None:
    """Reconciliation, at once, for the account's newest pending intent (a request that
    died left it): settle it when the card network has an answer for its key. One the
    network never saw is left alone: the request that runs again charges it, or, failing
    that, reconciliation settles it as failed."""
    with svc.database.read() as store:
        intent = store.pending_intent_of(account_id)
    outcome = None if intent is None else svc.gateway.lookup(intent.key)
    if intent is not None and outcome is not None and outcome.final:
        with suppress(PaymentFailed):  # recorded as failed; its owner was told
            settle(svc, intent.key, outcome)
