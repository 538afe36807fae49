"""The billing pages with Stripe (SPEC §9): Stripe.js on the page, its card field (Elements)
confirming a SetupIntent that canone makes for the signed-in account, and the page's
policy letting exactly Stripe.js in. With the sandbox none of this is on the page: the card
dialog takes the card's number, as it always did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from canone.billing.errors import InvalidField
from canone.services import payment_methods
from canone.services.errors import GatewayTimeout, PaymentActionRequired, ServiceError
from canone.settings import Settings
from canone.web.auth import checked_user, services_of, submitted_csrf
from canone.web.page_headers import STRIPE_JS_URL, stripe_policy
from canone.web.portal import messages
from canone.web.problems import status_of
from canone.web.templating import PageRoute, render, translator_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class StripePage:
    """What the page's script needs: the publishable key, where Stripe.js comes from, and
    the language Stripe's own texts (its field's placeholders and errors) are shown in."""

    publishable_key: str
    js_url: str
    locale: str


def stripe_page(request: Request) -> StripePage | None:
    """Stripe.js for this page, or None with the sandbox."""
    settings: Settings = request.app.state.settings
    if settings.payments != "stripe" or not settings.stripe_publishable_key:
        return None
    return StripePage(settings.stripe_publishable_key, settings.stripe_js_url or STRIPE_JS_URL,
                      translator_of(request).locale)


def render_payment_page(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    """A page that takes payments: with Stripe it loads Stripe.js (`stripe` in the
    template) under a policy that allows it; the sandbox's page keeps the 'self'-only one."""
    stripe = stripe_page(request)
    response = render(request, name, {**context, "stripe": stripe})
    if stripe is not None:
        response.headers["Content-Security-Policy"] = stripe_policy(stripe.js_url)
    return response


def payment_answer(request: Request, pay: Callable[[], str]) -> Response:
    """The answer to a form that pays (a plan change, "Pay now"): `pay` does it and says
    where the page goes next. The page's script with Stripe asks for JSON (stripe_pay.js):
    `{"next": url}`, or 202 with the client secret of a payment the bank wants the customer
    to authenticate (3-D Secure) first; the script runs the bank's challenge, then submits
    the same form again, which finishes that same payment. A plain form post (no script,
    so no challenge to run) is redirected, and the page says that nothing changed."""
    wants_json = "json" in request.headers.get("accept", "")
    try:
        next_url = pay()
    except PaymentActionRequired as action:
        if not wants_json:
            return RedirectResponse("/billing?error=requires_action", 303)
        return JSONResponse({"status": "requires_action", "client_secret": action.client_secret},
                            status_code=202, headers=NO_STORE)
    if wants_json:
        return JSONResponse({"next": next_url}, headers=NO_STORE)
    return RedirectResponse(next_url, 303)


@router.post("/billing/card/setup")
async def card_setup(request: Request) -> JSONResponse:
    """A SetupIntent of the account's Stripe customer, whose `client_secret` the card field
    (or, `?kind=sepa_debit`, the IBAN field) confirms in the browser; the page then saves
    its payment method (POST /billing/card)."""
    submitted = await submitted_csrf(request)
    return await run_in_threadpool(_card_setup, request, submitted)


def _card_setup(request: Request, submitted: str) -> JSONResponse:
    signed_in = checked_user(request, submitted)
    kind = request.query_params.get("kind")  # the IBAN field asks for sepa_debit only
    try:
        session = payment_methods.start_setup(services_of(request), signed_in.actor,
                                              signed_in.customer.account_id, kind)
    except ServiceError as exc:  # not Stripe, or not allowed
        return _refusal(request, messages.error_code(exc), status_of(exc))
    except InvalidField:  # SEPA for an account not billed in EUR (never offered to it)
        return _refusal(request, "not_possible", 422)
    except GatewayTimeout:
        return _refusal(request, "provider_unavailable", 503)
    return JSONResponse({"client_secret": session.client_secret}, headers=NO_STORE)


def _refusal(request: Request, code: str, status: int) -> JSONResponse:
    """Why no card can be entered now, in the visitor's language, for the dialog to show."""
    text = messages.error_text(translator_of(request), code)
    return JSONResponse({"error": text}, status_code=status, headers=NO_STORE)
