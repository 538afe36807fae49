"""Preview a plan change and confirm it: the amount charged is the amount shown (SPEC §4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from canone.billing.changes import NONE, REQUEST, UPGRADE, Change, plan_change
from canone.billing.codec import config_from_json, config_to_json
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.money import to_minor
from canone.billing.pricing import Price, price
from canone.services import collection, payment_methods, standing, subscriptions
from canone.services.access import Actor, load_account, require_billing
from canone.services.context import Services, Settlement, subscription_json, today
from canone.services.errors import (
    Busy,
    ChangeRefused,
    PaymentActionRequired,
    PaymentFailed,
    PaymentPending,
    StaleQuote,
    existing,
)
from canone.services.payments import (
    PENDING,
    SUCCEEDED,
    charge,
    record_payment,
    settle_in,
)
from canone.services.ports import CARRIED, PROCESSING, ChargeResult
from canone.services.records import Account, Invoice, PaymentIntent, Subscription
from canone.services.store import Store


@dataclass(frozen=True)
class Quote:
    change: Change
    target_price: Price
    token: str | None  # None when there is nothing to confirm (kind none or request)
    # Due now but under the payment provider's minimum charge: nothing is charged, the
    # amount is added to the next invoice and the change applies at once (SPEC §9).
    carried: bool = False


@dataclass(frozen=True)
class Confirmation:
    subscription: dict[str, Any]  # the subscription after the change, as the API shows it
    invoice: Invoice | None  # None when nothing was due


def active_users(store: Store, account_id: str) -> int:
    usage = store.usage.of_account(account_id)
    counted = sum(1 for user in store.people.users_of(account_id) if user.active)
    return max(counted, usage.active_users if usage else 0)


def seats_in_use(svc: Services, actor: Actor, account_id: str) -> tuple[int, int | None]:
    """The account's active users, and the seats its plan allows (None: no subscription or
    no limit): what the message of a refused seat count needs."""
    with svc.database.read() as store:
        load_account(store, actor, account_id)
        active = active_users(store, account_id)
        sub = store.subscriptions.of_account(account_id)
    if sub is None:
        return active, None
    return active, svc.catalog.plan(sub.config.product, sub.config.tier).max_seats


def preview(svc: Services, actor: Actor, account_id: str, target: Configuration) -> Quote:
    with svc.database.read() as store:
        account = load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "change the plan")
        sub = subscriptions.current(svc, store, account)
        try:
            target = validate(svc.catalog, target)
        except InvalidField as exc:
            raise exc.under("target") from None
        day = today(svc, account)
        change = plan_change(svc.catalog, sub.config, target, sub.anchor, day)
        check_seats(store, account_id, sub.config, target)
        if change.kind == UPGRADE:
            standing.refuse_purchase_while_past_due(store, account)
    token = None
    if change.kind not in (NONE, REQUEST):
        token = _sign(svc, {
            "a": account_id, "v": sub.version, "d": day.isoformat(),
            "i": config_to_json(change.immediate), "t": config_to_json(target),
            "due": to_minor(change.due_now), "n": secrets.token_hex(6),
        })
    due = to_minor(change.due_now)
    carried = 0 < due < svc.gateway.minimum_charge(target.currency)
    return Quote(change, price(svc.catalog, target), token, carried)


def check_seats(store: Store, account_id: str, current: Configuration,
                target: Configuration) -> None:
    users = active_users(store, account_id)
    if target.seats < current.seats and target.seats < users:
        raise InvalidField("target.seats", f"the account has {users} active users; "
                           f"deactivate users first to go below {users} seats")


def confirm(svc: Services, actor: Actor, account_id: str, token: str) -> Confirmation:
    claims = _verify(svc, token)
    if claims["a"] != account_id:
        raise InvalidField("quote_token", "this quote is for another account")
    key = "chg_" + hashlib.sha256(token.encode()).hexdigest()[:40]
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "change the plan")
        # The subscription row lock orders concurrent confirmations of the same quote. The
        # intent is read without a lock: settling holds the intent's lock while it waits
        # for the subscription's, so taking them in the other order here would deadlock.
        # A pending intent read here is charged again with its key, which never charges
        # twice, and settled once under the intent's lock.
        sub = store.subscriptions.of_account(account_id, lock=True)
        intent = store.payments.get_intent(key)
        if intent is not None and intent.status == SUCCEEDED and intent.result:
            return _confirmation(store, intent.result)
        if intent is not None and intent.status != PENDING:
            raise PaymentFailed((intent.result or {}).get("message", "The card was declined."))
        if intent is None:
            intent = _open_intent(svc, store, account, sub, key, claims)
            store.payments.add_intent(intent)
            if intent.status == SUCCEEDED:  # nothing to charge: applied at once
                result, invoice = _apply_paid_change(svc, store, intent,
                                                     ChargeResult(SUCCEEDED, None))
                store.payments.save_intent(intent.but(result=result))
                return Confirmation(result["subscription"], invoice)
    # The pending intent is committed: charge it (its key makes the network charge once,
    # however often this runs), then settle it and answer from that same transaction.
    try:
        outcome = charge(svc, intent)
    except PaymentActionRequired:
        raise
    except PaymentPending:
        applied = _apply_on_mandate(svc, key)
        if applied is None:
            raise
        return applied
    applying = _Applying()
    with svc.database.transaction() as store:
        settled = settle_in(svc, store, key, outcome, applying)
        if settled is not None:
            if applying.applied:
                return Confirmation(settled["subscription"], applying.invoice)
            return _confirmation(store, settled)  # settled by another request meanwhile
    raise PaymentFailed(outcome.message or "The card was declined.", outcome.status)


def _open_intent(svc: Services, store: Store, account: Account, sub: Subscription | None,
                 key: str, claims: dict[str, Any]) -> PaymentIntent:
    """The intent that buys the quoted change; `sub` was read with its lock."""
    account_id = account.id
    if sub is None or sub.version != claims["v"] or today(svc, account).isoformat() != claims["d"]:
        raise StaleQuote()
    target = _quoted_target(svc, store, account_id, sub.config, claims)
    day = date.fromisoformat(claims["d"])
    change = plan_change(svc.catalog, sub.config, target, sub.anchor, day)
    if to_minor(change.due_now) != claims["due"] or config_to_json(change.immediate) != claims["i"]:
        raise StaleQuote()  # the catalog changed under the quote
    if change.kind in (NONE, REQUEST):
        raise ChangeRefused("This change needs a request to support.", change.reasons)
    other = store.payments.pending_intent_of(account_id)
    if other is not None and other.key != key:
        raise Busy("Another payment for this account is being processed; try again shortly.")
    due = to_minor(change.due_now)
    if due > 0 and account.card is None:
        raise PaymentFailed("There is no card on file; add a card first.", "no_card")
    return PaymentIntent(
        key=key, account_id=account_id, purpose="change", amount=due,
        currency=sub.config.currency, card_token=account.card.token if account.card else "",
        payload=claims, status=PENDING if due > 0 else SUCCEEDED, created_at=svc.now(),
    )


def _quoted_target(svc: Services, store: Store, account_id: str, current: Configuration,
                   claims: dict[str, Any]) -> Configuration:
    """The quote's target, checked again as a preview checks it (catalog, seat limits,
    add-ons, active users): a token says what was quoted, not that it may be bought, and
    one signed with a leaked secret must not sell what the catalog does not."""
    try:
        target = validate(svc.catalog, config_from_json(claims["t"], "target"))
        check_seats(store, account_id, current, target)
    except InvalidField as exc:
        field = exc.field if exc.field.startswith("target") else f"target.{exc.field}"
        raise InvalidField("quote_token", f"the quoted change is not available ({field}: "
                           f"{exc.message}); preview the change again") from None
    return target


def _apply_on_mandate(svc: Services, key: str) -> Confirmation | None:
    """A change paid by SEPA Direct Debit applies at once (SPEC §9: the customer's mandate
    is the authorisation) while the debit is processing, for days: its invoice is issued
    unpaid and not collected meanwhile (the debit is its attempt); it is paid when the
    debit succeeds, and enters the retry schedule if it fails. None: not a SEPA debit."""
    with svc.database.transaction() as store:
        intent = existing(store.payments.get_intent(key, lock=True), f"payment intent {key}")
        account = existing(store.accounts.get(str(intent.account_id)), "account")
        if intent.status != PENDING or not payment_methods.is_sepa(account.card) or (
                account.card is None or account.card.token != intent.card_token):
            return None
        if intent.result and intent.result.get("on_mandate"):
            return _confirmation(store, intent.result)
        result, invoice = _apply_paid_change(svc, store, intent, ChargeResult(PROCESSING, None),
                                             paid=False)
        store.payments.save_intent(intent.but(result={**result, "on_mandate": True}))
        return Confirmation(result["subscription"], invoice)


def _complete_change(svc: Services, store: Store, intent: PaymentIntent,
                     outcome: ChargeResult) -> dict[str, Any]:
    if intent.result and intent.result.get("on_mandate"):  # applied: the invoice is paid
        invoice = existing(store.invoices.get(str(intent.result["invoice_id"])), "invoice")
        paid = invoice.but(status="paid", amount_paid=invoice.amount_paid + intent.amount,
                           next_attempt_at=None)
        store.invoices.save(paid)
        subscriptions.record_paid(svc, store, intent, outcome, paid)
        return intent.result
    return _apply_paid_change(svc, store, intent, outcome)[0]


class _Applying:
    """The change's completion for `settle_in`, keeping the invoice it issued so that the
    confirmation needs no second read of it."""

    def __init__(self) -> None:
        self.applied = False
        self.invoice: Invoice | None = None

    def __call__(self, svc: Services, store: Store, intent: PaymentIntent,
                 outcome: ChargeResult) -> dict[str, Any]:
        result, self.invoice = _apply_paid_change(svc, store, intent, outcome)
        self.applied = True
        return result


def _apply_paid_change(svc: Services, store: Store, intent: PaymentIntent,
                       outcome: ChargeResult, paid: bool = True
                       ) -> tuple[dict[str, Any], Invoice | None]:
    """Apply a paid change: subscription, invoice, payment, audit, events — together. The
    result stored for replays, and the invoice issued (None when nothing was due). Not
    `paid` yet (a SEPA debit processing): the invoice is issued open, its debit in flight."""
    claims = intent.payload
    account_id = existing(intent.account_id, f"account of payment intent {intent.key}")
    account = existing(store.accounts.get(account_id, lock=True), "account")
    sub = existing(store.subscriptions.of_account(account_id, lock=True), "subscription")
    if sub.version != claims["v"]:
        # Paid for a change that another one overtook: keep the money as account credit.
        # The money was taken: record the payment too, or nothing would show where the
        # credit came from.
        record_payment(svc, store, intent, outcome, account_id, None)
        subscriptions.credit(svc, store, account, intent.amount,
                             "Payment for a superseded plan change", None)
        return {"subscription": subscription_json(sub), "invoice_id": None,
                "credited": True}, None
    target = config_from_json(claims["t"], "target")
    day = date.fromisoformat(claims["d"])
    change = plan_change(svc.catalog, sub.config, target, sub.anchor, day)
    new = subscriptions.apply_change(svc, store, account, sub, change, "user change")
    invoice = None
    if outcome.status == CARRIED:  # under the provider's minimum: on the next invoice
        subscriptions.carry(svc, store, account, intent.amount,
                            f"Plan change of {day.isoformat()}, below the minimum charge", None)
    elif change.due_now > 0 and not paid:
        invoice = subscriptions.issue_invoice(svc, store, account, new, "upgrade", change.lines,
                                              day, new.period_end, paid=False)
        invoice = invoice.but(next_attempt_at=None)  # its debit is in flight: not collected
        store.invoices.save(invoice)
    elif change.due_now > 0:
        # The invoice covers the change day to the end of the (possibly new, month → year)
        # period. Its number is taken as late as possible (see issue_paid_invoice).
        invoice = subscriptions.issue_paid_invoice(svc, store, account, new, "upgrade",
                                                   change.lines, day, new.period_end, intent,
                                                   outcome)
    elif change.credit > 0:
        subscriptions.credit(svc, store, account, to_minor(change.credit),
                             "Credit for unused time after a plan change", None)
    return {"subscription": subscription_json(new),
            "invoice_id": invoice.id if invoice else None,
            "carried": intent.amount if outcome.status == CARRIED else 0}, invoice


def _change_failed(svc: Services, store: Store, intent: PaymentIntent,
                   outcome: ChargeResult) -> None:
    if intent.result and intent.result.get("on_mandate"):  # applied: its invoice is unpaid
        invoice = existing(store.invoices.get(str(intent.result["invoice_id"])), "invoice")
        account, data = subscriptions.payment_failed(svc, store, intent, outcome, invoice)
        collection.count_attempt(svc, store, invoice, account, "payment_failed", data)
        return
    # Not a failed invoice: there is none, nothing changed and nothing will be retried.
    account, data = subscriptions.payment_failed(svc, store, intent, outcome, None)
    subscriptions.notify_admin(svc, store, account, "change_declined",
                               {**data, "target": intent.payload["t"]})


# How a "change" intent is settled (wired in bootstrap.settlements()).
CHANGE_SETTLEMENT = Settlement(_complete_change, _change_failed)


def _confirmation(store: Store, result: dict[str, Any]) -> Confirmation:
    invoice_id = result.get("invoice_id")
    invoice = store.invoices.get(invoice_id) if invoice_id else None
    return Confirmation(result["subscription"], invoice)


def _sign(svc: Services, claims: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(svc.secret_key.encode(), body, hashlib.sha256).hexdigest()[:32]
    return f"{body.decode().rstrip('=')}.{mac}"


def _verify(svc: Services, token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token.isascii() or token.count(".") != 1:
        raise InvalidField("quote_token", "not a quote token; preview the change first")
    body, mac = token.split(".")
    padded = body + "=" * (-len(body) % 4)
    expected = hmac.new(svc.secret_key.encode(), padded.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected[:32], mac):
        raise InvalidField("quote_token", "not a valid quote token; preview the change again")
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return claims

