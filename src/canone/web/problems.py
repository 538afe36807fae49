"""Errors → RFC 9457 problem details, mapped once for the whole web app."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from canone.billing.errors import InvalidField
from canone.services.errors import (
    AccountRestricted,
    Busy,
    ChangeRefused,
    Conflict,
    Forbidden,
    InvalidBillingDetails,
    InvalidTransition,
    NoFreeSeat,
    NotFound,
    PaymentFailed,
    PaymentPending,
    ProviderMismatch,
    ServiceError,
    StaleQuote,
)

log = logging.getLogger("canone.web")

# The one map of the domain's errors to HTTP statuses: API problems, pages and the console
# all read it (through `status_of`). A subclass takes its nearest listed ancestor's status.
STATUS: dict[type[Exception], int] = {
    InvalidField: 422,
    NotFound: 404,
    Forbidden: 403,
    ChangeRefused: 409,
    StaleQuote: 409,
    Busy: 409,
    InvalidTransition: 409,
    AccountRestricted: 409,
    NoFreeSeat: 409,
    Conflict: 409,
    PaymentFailed: 402,
    ProviderMismatch: 409,
    PaymentPending: 402,
}
TITLES = {
    "invalid_field": "A field has a value that is not allowed",
    "not_found": "Not found",
    "forbidden": "Not allowed",
    "change_refused": "This change needs a request to support",
    "stale_quote": "Price changed, please review again",
    "stale_quote_refunded": "Price changed before the payment finished: not applied, refunded",
    "busy": "Try again shortly",
    "invalid_transition": "Not possible in the current state",
    "account_restricted": "The account is past due: pay the open invoice first",
    "no_free_seat": "Every user seat is taken",
    "conflict": "This conflicts with something that already exists",
    "payment_failed": "Payment failed",
    "payment_pending": "Payment outcome pending",
    "stale_quote_debit": "Price changed while the debit was set up: not applied",
    "requires_action": "The bank asks the customer to authenticate the payment",
    "unauthorized": "Missing or invalid API key",
    "idempotency_conflict": "Idempotency-Key reused with another request",
    "idempotency_in_progress": "A request with this Idempotency-Key is still running",
    "method_not_allowed": "Method not allowed",
    "body_too_large": "Request body too large",
    "bad_request": "Malformed request",
    "internal": "Internal error",
    "bad_signature": "The Stripe-Signature does not prove Stripe sent this",
    "provider_unavailable": "The payment provider did not answer; retry later",
}


# Every JSON API response carries these (API routes set them; so do errors raised outside a
# route under /api/, e.g. an unknown path).
API_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cache-Control": "no-store",
}


def status_of(exc: Exception) -> int:
    """The HTTP status of an error: from STATUS; 400 for another error of the services'
    tree, 500 for anything else (a bug)."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400 if isinstance(exc, ServiceError) else 500


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"urn:canone:problem:{code}", "title": TITLES.get(code, code),
            "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def problem_for(exc: Exception) -> JSONResponse:
    if isinstance(exc, InvalidField):
        listed = exc.errors if isinstance(exc, InvalidBillingDetails) else {
            exc.field: exc.message}
        return problem(status_of(exc), "invalid_field", exc.message, field=exc.field,
                       errors=[{"field": field, "message": message}
                               for field, message in listed.items()])
    if isinstance(exc, ServiceError):
        extra: dict[str, Any] = {}
        if isinstance(exc, ChangeRefused):
            extra["reasons"] = list(exc.reasons)
        if isinstance(exc, Forbidden) and exc.primary_admin:
            extra["primary_admin"] = exc.primary_admin
        if isinstance(exc, PaymentFailed):
            extra["decline_code"] = exc.decline_code
        return problem(status_of(exc), exc.code, exc.message, **extra)
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal", "Something went wrong on our side; nothing was changed.")


class ApiProblem(Exception):
    """An error of the web edge itself (missing API key, reused Idempotency-Key, ...)."""

    def __init__(self, status: int, code: str, detail: str,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    errors = [{"field": _field_of(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem(422, "invalid_field", f"{first['field']}: {first['message']}",
                   field=first["field"], errors=errors)


def http_problem(exc: HTTPException) -> JSONResponse:
    code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error")
    response = problem(exc.status_code, code, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def response_for(exc: Exception) -> JSONResponse:
    """The problem response for any exception: the one mapping of the whole web app."""
    if isinstance(exc, ApiProblem):
        response = problem(exc.status, exc.code, exc.detail, **exc.extra)
        response.headers.update(exc.headers)
        return response
    if isinstance(exc, RequestValidationError):
        return validation_problem(exc)
    if isinstance(exc, HTTPException):
        return http_problem(exc)
    return problem_for(exc)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (Starlette's own 405 names
    only the methods of the first route that matched the path)."""
    routes = [route for route in request.app.router.routes if hasattr(route, "matches")]
    return [method for method in METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                   for route in routes)]


def install(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        response = response_for(exc)
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        if request.url.path.startswith("/api/"):
            for name, value in API_SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    app.add_exception_handler(InvalidField, on_error)
    app.add_exception_handler(ServiceError, on_error)
    app.add_exception_handler(ApiProblem, on_error)
    app.add_exception_handler(RequestValidationError, on_error)
    app.add_exception_handler(HTTPException, on_error)
    app.add_exception_handler(Exception, on_error)
