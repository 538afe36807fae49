""""Request account change": the form behind "Want to change your plan? Contact us" and
behind every change that self-serve refuses (downgrades, removals, unbundling)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.services import requests, subscriptions
from canone.services.errors import NotFound, ServiceError
from canone.web.auth import SignedIn, posting_user, services_of
from canone.web.portal import labels, messages
from canone.web.portal.quoting import desired_from_fields
from canone.web.templating import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/billing/requests")
def send_request(request: Request, reason: str = Form(""), message: str = Form(""),
                 product: str = Form(""), tier: str = Form(""), interval: str = Form(""),
                 currency: str = Form(""), contacts: str = Form(""), seats: str = Form(""),
                 addons: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
                 signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    svc = services_of(request)
    account_id = signed_in.customer.account_id
    try:
        desired = None
        if product:  # the plan picked in the form, made to fit as its live price was
            desired = validate(svc.catalog, desired_from_fields(svc.catalog, {
                "product": product, "tier": tier, "interval": interval, "currency": currency,
                "contacts": contacts, "seats": seats, "addons": addons}))
        requests.create(svc, signed_in.actor, account_id,
                        _changed(request, signed_in, desired),
                        reason if reason in labels.REASONS else "other", message)
    except (InvalidField, ValueError):
        return RedirectResponse("/billing?error=request_invalid", 303)
    except ServiceError as exc:
        return RedirectResponse(f"/billing?error={messages.error_code(exc)}", 303)
    return RedirectResponse("/billing?done=request_sent", 303)


def _changed(request: Request, signed_in: SignedIn, desired: Configuration | None
             ) -> Configuration | None:
    """The desired plan, or None when it is the current one (the message says it all)."""
    if desired is None:
        return None
    try:
        sub = subscriptions.subscription_of(services_of(request), signed_in.actor,
                                            signed_in.customer.account_id)
    except NotFound:  # no subscription: any plan is a change
        return desired
    return None if desired == sub.config else desired


@router.post("/billing/requests/{request_id}/withdraw")
def withdraw(request: Request, request_id: str,
             signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    try:
        requests.transition(services_of(request), signed_in.actor, request_id,
                            requests.WITHDRAWN)
    except ServiceError as exc:
        return RedirectResponse(f"/billing?error={messages.error_code(exc)}", 303)
    return RedirectResponse("/billing?done=request_withdrawn", 303)
