"""Preview a plan change and confirm it: the amount charged is the amount shown (SPEC §4)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, TypeVar

from canone.billing.changes import NONE, REQUEST, UPGRADE, Change, plan_change
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.invoicing import InvoiceDraft
from canone.billing.money import to_minor
from canone.billing.pricing import Price, price
from canone.billing.tax import TaxTreatment
from canone.services import (
    billing_details,
    idempotency,
    payment_methods,
    standing,
    subscriptions,
    taxation,
)
from canone.services.access import Actor, load_account, require_billing
from canone.services.change_settlement import (
    Applying,
    apply_paid_change,
    as_quoted,
    refund_stale,
)
from canone.services.context import Services, today
from canone.services.errors import (
    Busy,
    ChangeRefused,
    PaymentActionRequired,
    PaymentFailed,
    PaymentPending,
    StaleDebitPending,
    StaleQuote,
    StaleQuoteRefunded,
    existing,
)
from canone.services.payloads import QuoteClaims, Settled, UnknownPayload
from canone.services.payments import (
    PENDING,
    STALE_MESSAGE,
    SUCCEEDED,
    cancelled_if_stale,
    charge,
    failed_before,
    settle_in,
)
from canone.services.ports import CARRIED, PROCESSING, STALE_QUOTE, ChargeResult
from canone.services.records import (
    Account,
    AccountBillingDetails,
    Invoice,
    PaymentIntent,
    Subscription,
)
from canone.services.store import Store


@dataclass(frozen=True)
class Quote:
    change: Change
    target_price: Price
    token: str | None  # None when there is nothing to confirm (kind none or request)
    # SPEC §8: the invoice an upgrade issues, taxed (`due_now` + tax = `total`), with the
    # credit balance applied; `amount_paid` is what the card is charged. The token binds it.
    charge: InvoiceDraft
    treatment: TaxTreatment | None  # None: no seller, no tax
    # What the card would be charged is under the payment provider's minimum: nothing is
    # charged, the amount due is added to the next invoice, the change applies (SPEC §9).
    carried: bool = False


Answered = TypeVar("Answered")


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
    """The change to `target` today, its invoice's tax and the amount charged, and the
    quote token that buys exactly that."""
    quote = preview_unless_vies(svc, actor, account_id, target)
    return quote if quote is not None else _preview_after_vies(svc, actor, account_id, target)


def preview_unless_vies(svc: Services, actor: Actor, account_id: str, target: Configuration
                        ) -> Quote | None:
    """`preview`, or None when VIES must be asked again first (`preview` asks it): for a
    caller with a read open (`Services.one_read`), which must not hold it through a call
    to VIES."""
    with svc.database.read() as store:
        account = load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "change the plan")
        details = store.accounts.billing_details_of(account_id)
        if billing_details.vies_stale(svc, details):
            return None
        return _answered(store, _quote(svc, store, account, details, target))


def _preview_after_vies(svc: Services, actor: Actor, account_id: str, target: Configuration
                        ) -> Quote:
    # VIES is asked again (outside a transaction) when its answer is stale: the quote must
    # be taxed as the invoice will be.
    billing_details.details_for_document(svc, account_id)
    with svc.database.read() as store:
        account = load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "change the plan")
        return _answered(store, _quote(
            svc, store, account, store.accounts.billing_details_of(account_id), target))


def _quote(svc: Services, store: Store, account: Account,
           details: AccountBillingDetails | None, target: Configuration) -> Quote:
    """`preview` in its read transaction, with the account's billing details read there."""
    account_id = account.id
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
    terms = taxation.terms_of(svc.seller, details, svc.now())
    charge = _charge_of(store, account_id, change, terms)
    token = None
    if change.kind not in (NONE, REQUEST):
        token = _sign(svc, QuoteClaims(
            account_id=account_id, subscription_version=sub.version, day=day,
            immediate=change.immediate, target=target, due=to_minor(change.due_now),
            nonce=secrets.token_hex(6), total=charge.total, credit=charge.credit_applied))
    carried = 0 < charge.amount_paid < svc.gateway.minimum_charge(target.currency)
    return Quote(change, price(svc.catalog, target), token, charge, terms.treatment, carried)


def _charge(svc: Services, store: Store, account_id: str, change: Change
            ) -> tuple[taxation.DocumentTerms, InvoiceDraft]:
    """The upgrade's invoice as it is issued now: taxed by the account's details, with the
    gross balance applied (nothing when nothing is due: a net credit issues no invoice)."""
    terms = taxation.terms_of_account(svc.seller, store, account_id, svc.now())
    return terms, _charge_of(store, account_id, change, terms)


def _charge_of(store: Store, account_id: str, change: Change, terms: taxation.DocumentTerms
               ) -> InvoiceDraft:
    lines = change.lines if change.due_now > 0 else ()
    return taxation.charge(lines, terms.treatment, store.ledger.balance_of(account_id))


def check_seats(store: Store, account_id: str, current: Configuration,
                target: Configuration) -> None:
    if target.seats >= current.seats:  # no fewer seats: the active users need not be read
        return
    users = active_users(store, account_id)
    if target.seats < users:
        raise InvalidField("target.seats", f"the account has {users} active users; "
                           f"deactivate users first to go below {users} seats")


class _NotApplied(Exception):  # a signal within confirm, never raised out of it
    """The change was paid for but could not apply: its quote went stale meanwhile."""


STALE_DEBIT_MESSAGE = ("Your plan changed while this payment was being set up, so this change"
                       " was not applied. If your bank completes the debit, we refund it in"
                       " full; you will receive an email.")
REFUNDED_MESSAGE = ("The price changed before the payment finished, so the plan change was not"
                    " applied; the payment is refunded to your card. Review the change again.")


def confirm(svc: Services, actor: Actor, account_id: str, token: str) -> Confirmation:
    """Buy the quoted change (`_confirm`). One whose payment succeeded after its quote went
    stale (SPEC §9) is refunded, once, and answered as a stale quote that says so."""
    try:
        return _confirm(svc, actor, account_id, token)
    except _NotApplied:
        refund_stale(svc, _intent_key(token))
        raise StaleQuoteRefunded(REFUNDED_MESSAGE) from None


def _intent_key(token: str) -> str:
    return "chg_" + hashlib.sha256(token.encode()).hexdigest()[:40]


def _confirm(svc: Services, actor: Actor, account_id: str, token: str) -> Confirmation:
    claims = _verify(svc, token)
    if claims.account_id != account_id:
        raise InvalidField("quote_token", "this quote is for another account")
    key = _intent_key(token)
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
            return _answered(store, _confirmation(
                store, _applied(Settled.from_json(intent.result))))
        if intent is not None and intent.status != PENDING:
            raise failed_before(intent)
        if intent is None:
            intent = _open_intent(svc, store, account, sub, key, claims)
            store.payments.add_intent(intent)
            if intent.status == SUCCEEDED:  # nothing to charge: applied at once
                result, invoice = apply_paid_change(svc, store, intent,
                                                     ChargeResult(SUCCEEDED, None))
                store.payments.save_intent(intent.but(result=result.to_json()))
                return _answered(store, _confirmation(store, result, invoice))
    return _charged(svc, intent)


def _charged(svc: Services, intent: PaymentIntent) -> Confirmation:
    """Charge the committed pending intent (its key makes the network charge once, however
    often this runs), then settle it and answer from that same transaction."""
    key = intent.key
    try:
        outcome = charge(svc, intent)
    except PaymentActionRequired as action:
        outcome = _cancelled_when_stale(svc, intent, action)
    except PaymentPending:
        applied = _apply_on_mandate(svc, key)
        if applied is None:
            raise
        return applied
    applying = Applying()
    with svc.database.transaction() as store:
        if outcome.status == CARRIED:
            applying.quoted = as_quoted(svc, store, intent)
            if applying.quoted[2] is None:
                # Nothing was charged: nothing is carried nor refunded for a stale quote.
                outcome = ChargeResult(STALE_QUOTE, None, STALE_MESSAGE)
        settled = settle_in(svc, store, key, outcome, applying)
        if settled is not None and not settled.credited:
            # (no invoice of its own: settled by another request meanwhile)
            invoice = applying.invoice if applying.applied else None
            return _answered(store, _confirmation(store, settled, invoice))
    if settled is not None:  # committed: the stale quote's payment is refunded now
        raise _NotApplied()
    raise PaymentFailed(outcome.message or "The card was declined.", outcome.status)


def _cancelled_when_stale(svc: Services, intent: PaymentIntent,
                          action: PaymentActionRequired) -> ChargeResult:
    """A payment the bank still asks the customer to authenticate whose quote went stale
    meanwhile (SPEC §9): cancelled at the provider, to settle as failed (or, finished in the
    meantime, settled as the provider has it). Otherwise the bank's challenge stands."""
    cancelled = cancelled_if_stale(svc, intent, action.provider_id)
    if cancelled is None or not cancelled.final:
        raise action
    return cancelled


def _applied(result: Settled) -> Settled:
    """`result`, of a change that applied; `_NotApplied` for a payment it could not buy."""
    if result.credited:
        raise _NotApplied()
    return result


def _open_intent(svc: Services, store: Store, account: Account, sub: Subscription | None,
                 key: str, claims: QuoteClaims) -> PaymentIntent:
    """The intent that buys the quoted change; `sub` was read with its lock."""
    account_id = account.id
    if (sub is None or sub.version != claims.subscription_version
            or today(svc, account) != claims.day):
        raise StaleQuote()
    target = _quoted_target(svc, store, account_id, sub.config, claims.target)
    change = plan_change(svc.catalog, sub.config, target, sub.anchor, claims.day)
    if to_minor(change.due_now) != claims.due or change.immediate != claims.immediate:
        raise StaleQuote()  # the catalog changed under the quote
    if change.kind in (NONE, REQUEST):
        raise ChangeRefused("This change needs a request to support.", change.reasons)
    _, charge = _charge(svc, store, account_id, change)
    # A token without a total was quoted before taxes: preview again.
    if (charge.total, charge.credit_applied) != (claims.total, claims.credit):
        raise StaleQuote()  # the tax (billing details, a rate) or the balance changed
    other = store.payments.pending_intent_of(account_id)
    if other is not None and other.key != key:
        raise Busy("Another payment for this account is being processed; try again shortly.")
    due = charge.amount_paid  # what the card pays; the balance pays the rest
    if due > 0 and account.card is None:
        raise PaymentFailed("There is no card on file; add a card first.", "no_card")
    return PaymentIntent(
        key=key, account_id=account_id, purpose="change", amount=due,
        currency=sub.config.currency, card_token=account.card.token if account.card else "",
        payload=claims.to_json(), status=PENDING if due > 0 else SUCCEEDED, created_at=svc.now(),
    )


def _quoted_target(svc: Services, store: Store, account_id: str, current: Configuration,
                   quoted: Configuration) -> Configuration:
    """The quote's target, checked again as a preview checks it (catalog, seat limits,
    add-ons, active users): a token says what was quoted, not that it may be bought, and
    one signed with a leaked secret must not sell what the catalog does not."""
    try:
        target = validate(svc.catalog, quoted)
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
    debit succeeds, and enters the retry schedule if it fails. None: not a SEPA debit.
    `StaleDebitPending` when its quote went stale since the intent was opened (the mandate
    bought that quote, not another: the debit's outcome settles it, refunded if it
    succeeds, nothing owed if it fails)."""
    with svc.database.transaction() as store:
        intent = existing(store.payments.get_intent(key, lock=True), f"payment intent {key}")
        account = existing(store.accounts.get(str(intent.account_id)), "account")
        if intent.status != PENDING or not payment_methods.is_sepa(account.card) or (
                account.card is None or account.card.token != intent.card_token):
            return None
        earlier = Settled.from_json(intent.result) if intent.result else None
        if earlier is not None and earlier.on_mandate:
            return _confirmation(store, earlier)
        quoted = as_quoted(svc, store, intent)
        if quoted[2] is None:  # the debit's outcome settles it
            raise StaleDebitPending(STALE_DEBIT_MESSAGE)
        result, invoice = apply_paid_change(svc, store, intent, ChargeResult(PROCESSING, None),
                                             paid=False, quoted=quoted)
        result = dataclasses.replace(result, on_mandate=True)
        store.payments.save_intent(intent.but(result=result.to_json()))
        return _confirmation(store, result, invoice)


def _confirmation(store: Store, result: Settled, invoice: Invoice | None = None
                  ) -> Confirmation:
    """The answer of a settled change: the invoice given, or read when the result names
    one (a change settled by another request)."""
    if invoice is None and result.invoice_id:
        invoice = store.invoices.get(result.invoice_id)
    return Confirmation(existing(result.subscription, "the change's subscription"), invoice)


def _answered(store: Store, result: Answered) -> Answered:
    """The request's answer stored (when its Idempotency-Key rides along) by the
    transaction that settled (or, for a preview, read) it, not by one of its own after."""
    idempotency.answer(store, result)
    return result


def _sign(svc: Services, claims: QuoteClaims) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims.to_json(), separators=(",", ":"))
                                    .encode())
    mac = hmac.new(svc.secret_key.encode(), body, hashlib.sha256).hexdigest()[:32]
    return f"{body.decode().rstrip('=')}.{mac}"


def _verify(svc: Services, token: str) -> QuoteClaims:
    if not isinstance(token, str) or not token.isascii() or token.count(".") != 1:
        raise InvalidField("quote_token", "not a quote token; preview the change first")
    body, mac = token.split(".")
    padded = body + "=" * (-len(body) % 4)
    expected = hmac.new(svc.secret_key.encode(), padded.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected[:32], mac):
        raise InvalidField("quote_token", "not a valid quote token; preview the change again")
    try:
        return QuoteClaims.from_json(json.loads(base64.urlsafe_b64decode(padded)))
    except UnknownPayload:  # signed by us, but by another version: tokens are short-lived
        raise InvalidField("quote_token", "a quote token of another version of canone; "
                           "preview the change again") from None

