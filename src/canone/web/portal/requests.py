""""Request account change": the form behind "Want to change your plan? Contact us" and
behind every change that self-serve refuses (downgrades, removals, unbundling)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from canone.billing.codec import config_from_json
from canone.billing.errors import InvalidField
from canone.services import requests
from canone.services.errors import ServiceError
from canone.web.auth import SignedIn, posting_user, services_of
from canone.web.portal import labels, messages
from canone.web.templating import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/billing/requests")
def send_request(request: Request, desired: str = Form(""), reason: str = Form("other"),
                 message: str = Form(""), what: str = Form(""),
                 signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    assert signed_in.user is not None
    try:
        # The desired plan arrives as the page wrote it (prefilled from a refused change).
        config = config_from_json(json.loads(desired), "desired") if desired.strip() else None
        requests.create(services_of(request), signed_in.actor, signed_in.user.account_id,
                        config, reason if reason in labels.REASONS else "other", message)
    except (InvalidField, ValueError):
        return RedirectResponse("/billing?error=request_invalid", 303)
    except ServiceError as exc:
        return RedirectResponse(f"/billing?error={messages.error_code(exc)}", 303)
    return RedirectResponse("/billing?done=request_sent", 303)


@router.post("/billing/requests/{request_id}/withdraw")
def withdraw(request: Request, request_id: str,
             signed_in: SignedIn = Depends(posting_user)) -> RedirectResponse:
    try:
        requests.transition(services_of(request), signed_in.actor, request_id,
                            requests.WITHDRAWN)
    except ServiceError as exc:
        return RedirectResponse(f"/billing?error={messages.error_code(exc)}", 303)
    return RedirectResponse("/billing?done=request_withdrawn", 303)
