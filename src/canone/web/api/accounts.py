"""Accounts, their subscription, usage, entitlements and money."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Request

from canone.billing.codec import change_to_json, config_from_json, price_to_json
from canone.billing.errors import InvalidField
from canone.services import (
    accounts,
    invoices,
    payment_methods,
    quotes,
    signups,
    subscriptions,
    usage,
)
from canone.services.errors import PaymentActionRequired
from canone.services.ports import Card
from canone.services.signups import SignUp
from canone.web.api import models
from canone.web.api.base import (
    ACTION_REQUIRED,
    AccountId,
    ActorDep,
    IdempotencyKey,
    Limit,
    ServicesDep,
    StartingAfter,
    action_required,
    api_router,
    changes_nothing,
    errors,
    require_operator,
    rides_along,
)
from canone.web.api.billing_details import SignUpWithBillingDetailsIn
from canone.web.api.idempotency import JsonAnswer
from canone.web.api.views import (
    account_view,
    invoice_view,
    ledger_view,
    money,
    page,
    subscription_view,
    tax_view,
)

router = api_router(tags=["accounts"])


def _card(card: models.CardIn) -> Card | str:
    """A typed card, or a Stripe payment method id; which one the gateway takes is the
    services' to say (a card number with Stripe is refused there, naming the field)."""
    if card.stripe_payment_method is not None:
        if card.number is not None:
            raise InvalidField("payment_method.number", payment_methods.NO_NUMBERS)
        return card.stripe_payment_method
    number, exp_month, exp_year, cvc = card.number, card.exp_month, card.exp_year, card.cvc
    if number is None:
        raise InvalidField("payment_method.number", "is required")
    if exp_month is None:
        raise InvalidField("payment_method.exp_month", "is required")
    if exp_year is None:
        raise InvalidField("payment_method.exp_year", "is required")
    if cvc is None:
        raise InvalidField("payment_method.cvc", "is required")
    return Card(number, exp_month, exp_year, cvc)


@router.post("/accounts", status_code=201, response_model=models.SignedUpOut,
             responses={**ACTION_REQUIRED, **errors(401, 402, 403, 409, 422)})
def create_account(body: SignUpWithBillingDetailsIn, request: Request, actor: ActorDep,
                   svc: ServicesDep, idempotency_key: IdempotencyKey = None) -> Any:
    """Sign up: create the account and its primary admin, start the subscription on the
    anchor date and charge the first period in full. A declined card creates nothing (402).
    Operator keys only. With Stripe, 202 `requires_action` when the bank asks for 3-D
    Secure: finish it with Stripe.js, then send the same request with the same
    Idempotency-Key: the account is created once, when the payment has succeeded."""
    require_operator(actor, "create accounts")
    form = SignUp(
        name=body.name, timezone=body.timezone, locale=body.locale, currency=body.currency,
        admin_email=body.primary_admin.email, admin_name=body.primary_admin.name,
        admin_password=body.primary_admin.password,
        config=config_from_json(body.subscription.model_dump(), "subscription"),
        card=_card(body.payment_method), anchor=body.anchor,
        billing_details=None if body.billing_details is None
        else body.billing_details.details())
    key = getattr(request.state, "idempotency_key", None)
    scope = request.state.api_key.id
    try:
        done = signups.sign_up(svc, form, request_key=f"{scope}:{key}" if key else None)
    except PaymentActionRequired as pending:
        return action_required(pending)
    return {**account_view(done.account), "subscription": subscription_view(done.subscription),
            "invoice": invoice_view(done.invoice)}


@router.get("/accounts", response_model=models.AccountPage, responses=errors(401, 422))
def list_accounts(actor: ActorDep, svc: ServicesDep, limit: Limit = 20,
                  starting_after: StartingAfter = None,
                  q: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$",
                                                 description="Name, id or email contains")]
                  = None) -> dict[str, Any]:
    """Operator keys: every account (searchable, by id); account keys: their own."""
    if actor.account_id is not None:
        own = accounts.account_of(svc, actor, actor.account_id)
        return page([] if starting_after else [own], limit, account_view)
    require_operator(actor, "list accounts")
    found = accounts.find_accounts(svc, actor, q, limit + 1, starting_after)
    return page(found, limit, account_view)


@router.get("/accounts/{account_id}", response_model=models.AccountOut,
            responses=errors(401, 404, 422))
def get_account(account_id: AccountId, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return account_view(accounts.account_of(svc, actor, account_id))


@router.put("/accounts/{account_id}/payment-method", response_model=models.AccountOut,
            responses=errors(401, 402, 403, 404, 422))
def update_payment_method(account_id: AccountId, body: models.PaymentMethodIn,
                          actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Replace the card on file; an account with unpaid invoices is charged at once. With
    Stripe, send `stripe_payment_method` (card numbers never reach canone); a card Stripe
    refuses to save is a 402 with Stripe's message."""
    return account_view(accounts.update_card(svc, actor, account_id, _card(body)))


@router.post("/accounts/{account_id}/setup-intents", status_code=201,
             response_model=models.SetupIntentOut,
             responses=errors(401, 403, 404, 409, 422))
def create_setup_intent(account_id: AccountId, actor: ActorDep,
                        svc: ServicesDep) -> dict[str, Any]:
    """Stripe only: a SetupIntent whose `client_secret` Stripe Elements confirms with the
    card (or, for EUR accounts, the IBAN); then send its payment method to
    PUT /accounts/{id}/payment-method. The account's Stripe customer is made on first use."""
    session = payment_methods.start_setup(svc, actor, account_id)
    return {"id": session.setup_id, "client_secret": session.client_secret}


@router.put("/accounts/{account_id}/auto-upgrade", response_model=models.AccountOut,
            responses=errors(401, 403, 404, 422))
def set_auto_upgrade(account_id: AccountId, body: models.AutoUpgradeIn, actor: ActorDep,
                     svc: ServicesDep) -> dict[str, Any]:
    """Turn auto-upgrade of the contact limit on or off (SPEC §6)."""
    return account_view(accounts.set_auto_upgrade(svc, actor, account_id, body.enabled))


# -- the subscription -----------------------------------------------------------------------


@router.get("/accounts/{account_id}/subscription", response_model=models.SubscriptionOut,
            responses=errors(401, 404, 422), tags=["subscription"])
def get_subscription(account_id: AccountId, actor: ActorDep, svc: ServicesDep
                     ) -> dict[str, Any]:
    return subscription_view(subscriptions.subscription_of(svc, actor, account_id))


@router.post("/accounts/{account_id}/subscription/preview", response_model=models.PreviewOut,
             responses=errors(401, 403, 404, 409, 422), tags=["subscription"])
@changes_nothing
def preview_change(account_id: AccountId, body: models.PreviewIn, request: Request,
                   actor: ActorDep, svc: ServicesDep, idempotency_key: IdempotencyKey = None
                   ) -> Any:
    """Price a change to `target` for today: the `change` object of `canone price`, the
    target's own price, and a `quote_token` that buys exactly this change."""
    target = config_from_json(body.target.model_dump(), "target")
    _PREVIEWED.offer(request)
    return _PREVIEWED.response(request, quotes.preview(svc, actor, account_id, target))


def _previewed(quote: quotes.Quote) -> dict[str, Any]:
    charge, treatment = quote.charge, quote.treatment
    return {"change": change_to_json(quote.change), "target": price_to_json(quote.target_price),
            "quote_token": quote.token,
            "tax": None if treatment is None else tax_view(treatment, charge.subtotal,
                                                           charge.tax),
            "total_due_now": money(charge.total),
            "credit_applied": money(charge.credit_applied),
            "amount_due_now": money(charge.amount_paid),
            "carried_to_next_invoice": quote.carried}


_PREVIEWED = JsonAnswer(models.PreviewOut, _previewed)


@router.post("/accounts/{account_id}/subscription/confirm", response_model=models.ConfirmOut,
             responses={**ACTION_REQUIRED, **errors(401, 402, 403, 404, 409, 422)},
             tags=["subscription"])
@rides_along
def confirm_change(account_id: AccountId, body: models.ConfirmIn, request: Request,
                   actor: ActorDep, svc: ServicesDep, idempotency_key: IdempotencyKey = None
                   ) -> Any:
    """Buy the previewed change: charge exactly the amount shown and apply it, or change
    nothing. 409 `stale_quote` when the subscription or the date changed since the preview
    (preview again); 402 when the payment failed. Confirming a token twice returns the
    first result and charges once. With Stripe, 202 `requires_action` when the customer's
    bank asks for 3-D Secure: finish it with Stripe.js (`confirmCardPayment` with the
    `client_secret`), then confirm the same token again (or let Stripe's webhook apply it):
    the change applies once, when the payment has succeeded. 409 `stale_quote_refunded`
    when it succeeded after the quote went stale: the change is not applied and the payment
    is refunded to the card, with a credit note (SPEC §9). 402 `stale_quote_debit` when it
    is paid by a SEPA Direct Debit and the quote went stale before the change could apply
    on the mandate: the change is not applied; the debit is refunded if it succeeds."""
    _CONFIRMED.offer(request)
    try:
        done = quotes.confirm(svc, actor, account_id, body.quote_token)
    except PaymentActionRequired as pending:
        return action_required(pending)
    return _CONFIRMED.response(request, done)


def _confirmed(done: quotes.Confirmation) -> dict[str, Any]:
    return {"subscription": done.subscription,
            "invoice": None if done.invoice is None else invoice_view(done.invoice)}


_CONFIRMED = JsonAnswer(models.ConfirmOut, _confirmed)


@router.delete("/accounts/{account_id}/subscription/pending",
               response_model=models.SubscriptionOut, responses=errors(401, 403, 404, 409, 422),
               tags=["subscription"])
def drop_pending(account_id: AccountId, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Cancel the change scheduled for the next period."""
    return subscription_view(subscriptions.drop_pending(svc, actor, account_id))


@router.post("/accounts/{account_id}/subscription/cancel", response_model=models.SubscriptionOut,
             responses=errors(401, 403, 404, 409, 422), tags=["subscription"])
def cancel(account_id: AccountId, actor: ActorDep, svc: ServicesDep,
           body: Annotated[models.CancelIn | None, Body()] = None,
           idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Cancel at the end of the current period (undo with /resume before then)."""
    reason = body.reason if body else ""
    return subscription_view(subscriptions.set_cancellation(svc, actor, account_id, True,
                                                            reason))


@router.post("/accounts/{account_id}/subscription/resume", response_model=models.SubscriptionOut,
             responses=errors(401, 403, 404, 409, 422), tags=["subscription"])
def resume(account_id: AccountId, actor: ActorDep, svc: ServicesDep,
           idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Undo a cancellation at period end."""
    return subscription_view(subscriptions.set_cancellation(svc, actor, account_id, False))


# -- usage and entitlements -----------------------------------------------------------------


@router.put("/accounts/{account_id}/usage", response_model=models.UsageOut,
            responses=errors(401, 404, 409, 422), tags=["usage"])
def report_usage(account_id: AccountId, body: models.UsageIn, actor: ActorDep,
                 svc: ServicesDep) -> dict[str, Any]:
    """The host product reports contacts and active users; warnings at 75/90/100 % of the
    contact limit, and auto-upgrade when the account turned it on."""
    done = usage.report(svc, actor, account_id, body.contacts, body.active_users)
    return {"contacts": done.usage.contacts, "active_users": done.usage.active_users,
            "reported_at": done.usage.reported_at,
            "thresholds_reached": list(done.thresholds_reached),
            "auto_upgraded_to": done.auto_upgraded_to}


@router.get("/accounts/{account_id}/entitlements", response_model=models.EntitlementsOut,
            responses=errors(400, 401, 404, 422), tags=["usage"])
def get_entitlements(account_id: AccountId, actor: ActorDep, svc: ServicesDep
                     ) -> dict[str, Any]:
    """May the account use feature X? Its features, limits, usage, and whether it is
    restricted (unpaid: read-only except billing)."""
    found = usage.entitlements(svc, actor, account_id)
    return {"features": list(found.features),
            "limits": {"contacts": found.contacts_limit, "seats": found.seats},
            "usage": {"contacts": found.contacts, "active_users": found.active_users},
            "restricted": found.restricted}


# -- money ------------------------------------------------------------------------------


@router.get("/accounts/{account_id}/invoices", response_model=models.InvoicePage,
            responses=errors(401, 403, 404, 422), tags=["invoices"])
def list_invoices(account_id: AccountId, actor: ActorDep, svc: ServicesDep, limit: Limit = 20,
                  starting_after: StartingAfter = None) -> dict[str, Any]:
    """Newest first."""
    found = invoices.invoices_of(svc, actor, account_id, limit + 1, starting_after)
    return page(found, limit, invoice_view)


@router.get("/accounts/{account_id}/ledger", response_model=models.LedgerOut,
            responses=errors(401, 403, 404, 422), tags=["invoices"])
def get_ledger(account_id: AccountId, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """The credit balance (applied to the next invoices) and its entries, oldest first."""
    return ledger_view(invoices.ledger(svc, actor, account_id))
