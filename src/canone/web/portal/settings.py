"""The account's billing settings on the page: the card on file, paying an unpaid invoice
now, auto-upgrade of the contact limit, and cancellation at period end (with its undo)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from canone.billing.errors import InvalidField
from canone.services import accounts, payment_methods, standing, subscriptions
from canone.services.errors import GatewayTimeout, PaymentActionRequired, ServiceError
from canone.services.ports import Card
from canone.services.records import PAST_DUE
from canone.web.auth import SignedIn, posting_user, services_of
from canone.web.portal import messages
from canone.web.portal.stripe_page import payment_answer
from canone.web.templating import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _account_id(signed_in: SignedIn) -> str:
    return signed_in.customer.account_id


def _back(done: str | None = None, error: Exception | str | None = None) -> RedirectResponse:
    if error is not None:
        code = error if isinstance(error, str) else messages.error_code(error)
        return RedirectResponse(f"/billing?error={code}", 303)
    return RedirectResponse(f"/billing?done={done}", 303)


@router.post("/billing/card")
def update_card(request: Request, number: str = Form(""), exp_month: str = Form(""),
                exp_year: str = Form(""), cvc: str = Form(""),
                stripe_payment_method: str = Form(""),
                signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    """The card typed into the sandbox's form, or (Stripe) the payment method Stripe's card
    field made: the service refuses the one the provider does not take."""
    try:
        card: Card | str = stripe_payment_method.strip() or Card(
            number.strip(), int(exp_month), int(exp_year), cvc.strip())
        saved = accounts.update_card(services_of(request), signed_in.actor,
                                     _account_id(signed_in), card)
    except (ValueError, InvalidField):
        return _back(error="card_invalid")
    except ServiceError as exc:
        return _back(error=exc)
    except GatewayTimeout:  # Stripe did not answer: nothing was saved
        return _back(error="provider_unavailable")
    if payment_methods.is_sepa(saved.card):  # what is owed is being debited, for days
        return _back("bank_account_saved")
    if saved.status == PAST_DUE:  # the new card was charged for what is owed, and declined
        return _back(error="card_saved_unpaid")
    return _back("card_updated")


@router.post("/billing/invoices/{invoice_id}/pay")
def pay_invoice(request: Request, invoice_id: str,
                signed_in: SignedIn = Depends(posting_user)) -> Response:
    """"Pay now": the open invoice charged at once with the card on file; with Stripe the
    bank may ask the customer to authenticate first (`payment_answer`)."""

    def pay() -> str:
        try:
            standing.pay_invoice(services_of(request), signed_in.actor, invoice_id)
        except PaymentActionRequired:
            raise
        except ServiceError as exc:
            return f"/billing?error={messages.error_code(exc)}"
        return "/billing?done=invoice_paid"

    return payment_answer(request, pay)


@router.post("/billing/auto-upgrade")
def auto_upgrade(request: Request, on: str = Form("0"),
                 signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    enable = on == "1"
    try:
        accounts.set_auto_upgrade(services_of(request), signed_in.actor,
                                  _account_id(signed_in), enable)
    except (ServiceError, InvalidField) as exc:
        return _back(error=exc)
    return _back("auto_upgrade_on" if enable else "auto_upgrade_off")


@router.post("/billing/cancel")
def cancel_account(request: Request, reason: str = Form(""),
                   signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    try:
        subscriptions.set_cancellation(services_of(request), signed_in.actor,
                                       _account_id(signed_in), True, reason.strip()[:500])
    except ServiceError as exc:
        return _back(error=exc)
    return _back("cancelled")


@router.post("/billing/resume")
def undo_cancellation(request: Request,
                      signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    try:
        subscriptions.set_cancellation(services_of(request), signed_in.actor,
                                       _account_id(signed_in), False)
    except ServiceError as exc:
        return _back(error=exc)
    return _back("resumed")
