"""Plan changes from the page: the live quote (JSON for dialog.js), the confirmation of a
quote, and cancelling a scheduled change. The amounts come from the services' quote; the
confirmation charges exactly what the quote showed, once per quote token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from canone.billing.errors import InvalidField
from canone.services import quotes, subscriptions
from canone.services.errors import Forbidden, PaymentActionRequired, ServiceError
from canone.web.auth import SignedIn, checked_user, posting_user, services_of, submitted_csrf
from canone.web.i18n import N_
from canone.web.portal import messages
from canone.web.portal.quoting import (
    QuoteView,
    desired_from_fields,
    error_view,
    quote_view,
    target_from_fields,
)
from canone.web.portal.stripe_page import payment_answer
from canone.web.templating import PageRoute, templates, translator_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
PARTS = ("summary", "review", "request")  # a dialog's [data-quote-part]: quote_NAME.html
UNREADABLE = N_("The page sent a request that could not be read. Reload the page and try "
                "again.")


def _account_id(signed_in: SignedIn) -> str:
    return signed_in.customer.account_id


def _invalid_choice(request: Request, signed_in: SignedIn, exc: InvalidField) -> str:
    tr = translator_of(request)
    active = max_seats = None
    if exc.field.endswith("seats"):  # rare: read what the message needs
        active, max_seats = quotes.seats_in_use(services_of(request), signed_in.actor,
                                                _account_id(signed_in))
    return messages.field_text(tr, exc, active, max_seats)


@router.post("/billing/quote")
async def live_quote(request: Request) -> JSONResponse:
    """The price of the configuration a dialog shows, as HTML parts for the dialog. The
    slider asks at every stop, so all the blocking work is one trip to the thread pool."""
    submitted = await submitted_csrf(request)
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's guard
        data = None
    return await run_in_threadpool(_answer_quote, request,
                                   data if isinstance(data, dict) else None, submitted)


def _answer_quote(request: Request, data: dict[str, Any] | None, submitted: str
                  ) -> JSONResponse:
    with services_of(request).one_read():  # the sign-in's and the quote's
        signed_in = checked_user(request, submitted)
        tr = translator_of(request)
        asked = _parts_asked(data)
        answer = ((400, error_view(tr.gettext(UNREADABLE))) if data is None or asked is None
                  else _quote_of(request, signed_in, data, ask_vies=False))
    if answer is None:  # VIES is asked again first: not while the read holds a connection
        answer = _quote_of(request, signed_in, data or {}, ask_vies=True)
        assert answer is not None  # (`preview` always answers)
    status, view = answer
    context = {"q": view, "i18n": tr}
    parts = {name: templates.env.get_template(f"portal/quote_{name}.html").render(context)
             for name in asked or PARTS}
    return JSONResponse({"kind": view.kind, "token": view.token, "parts": parts,
                         "confirm_label": view.confirm_label(tr)},
                        status_code=status, headers=NO_STORE)


def _parts_asked(data: dict[str, Any] | None) -> tuple[str, ...] | None:
    """The parts the dialog shows, which dialog.js names in `parts`: each is a template
    rendered at every stop of the slider, and no dialog shows all three (the request form's
    is shown by it alone). A body naming none (a page loaded before dialog.js named them)
    gets them all. None when `parts` is not a list of known names, which no page sends:
    the request is unreadable."""
    asked = PARTS if data is None else data.get("parts", PARTS)
    if not isinstance(asked, list | tuple) or not asked or not all(
            isinstance(name, str) and name in PARTS for name in asked):
        return None
    return tuple(name for name in PARTS if name in asked)


def _quote_of(request: Request, signed_in: SignedIn, data: dict[str, Any], *,
              ask_vies: bool) -> tuple[int, QuoteView] | None:
    """The status and the view of a quote for the dialog's fields; None, without
    `ask_vies`, when VIES must be asked again first (`quotes.preview_unless_vies`)."""
    tr = translator_of(request)
    svc = services_of(request)
    try:
        # The request form picks product, tier and add-ons; the rest is made to fit them.
        target = (desired_from_fields(svc.catalog, data) if data.get("desired_form")
                  else target_from_fields(data))
        previewing = quotes.preview if ask_vies else quotes.preview_unless_vies
        quote = previewing(svc, signed_in.actor, _account_id(signed_in), target)
        return None if quote is None else (200, quote_view(tr, svc.catalog, quote))
    except InvalidField as exc:
        return 200, error_view(_invalid_choice(request, signed_in, exc))
    except Forbidden:
        return 403, error_view(tr.gettext("Only the primary admin or an admin with billing "
                                          "permission can see and change billing."))
    except ServiceError as exc:
        return 200, error_view(messages.error_text(tr, messages.error_code(exc)) or "")


@router.post("/billing/confirm")
def confirm(request: Request, token: str = Form(""), reviewed: str = Form(""),
            signed_in: SignedIn = Depends(posting_user)) -> Response:
    """Confirm a quote: the service charges it once, however often it is submitted. The
    page's forms send `reviewed=1` only from a review on screen (dialog.js): a submission
    without it (Enter in a field of the dialog) charges nothing. With Stripe the page's
    script asks for JSON (stripe_pay.js): where to go next, or the client secret of a
    payment the bank wants the customer to confirm (3-D Secure) before the change applies;
    the script then confirms the same quote again to finish it."""
    return payment_answer(request, lambda: _confirmed(request, token, reviewed, signed_in))


def _confirmed(request: Request, token: str, reviewed: str, signed_in: SignedIn) -> str:
    """Where the page goes once the quote is confirmed, or why it was not; raises
    PaymentActionRequired when the bank wants the customer to authenticate first."""
    if reviewed != "1":
        return "/billing?error=not_reviewed"
    svc = services_of(request)
    try:
        done = quotes.confirm(svc, signed_in.actor, _account_id(signed_in), token)
    except PaymentActionRequired:
        raise
    except (ServiceError, InvalidField) as exc:
        return f"/billing?error={messages.error_code(exc)}"
    if done.invoice is not None:
        return f"/billing?invoice={done.invoice.id}"
    if done.subscription.get("pending") is not None:
        return "/billing?done=scheduled"
    return "/billing?done=changed"


@router.post("/billing/pending/cancel")
def cancel_pending(request: Request,
                   signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    try:
        subscriptions.drop_pending(services_of(request), signed_in.actor,
                                   _account_id(signed_in))
    except ServiceError as exc:
        return RedirectResponse(f"/billing?error={messages.error_code(exc)}", 303)
    return RedirectResponse("/billing?done=pending_cancelled", 303)
