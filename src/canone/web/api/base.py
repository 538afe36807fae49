"""What every API route shares: API-key authentication, problem details for every error
(never a traceback), security headers, and `Idempotency-Key` on every POST.

Routers are made with `api_router()`, whose routes are `ApiRoute`s.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from canone.services import apikeys
from canone.services.access import OPERATOR, Actor
from canone.services.context import Services
from canone.services.errors import Forbidden, PaymentActionRequired
from canone.services.idempotency import KeyTaken
from canone.services.records import ApiKey
from canone.settings import Settings
from canone.web.api import idempotency
from canone.web.api.models import ID_PATTERN, ActionRequiredOut, Problem
from canone.web.problems import API_SECURITY_HEADERS, ApiProblem, response_for

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_DESCRIPTIONS = {
    400: "The request cannot be served", 401: "Missing, invalid or revoked API key",
    402: "The payment failed or its outcome is pending", 403: "The key may not do this",
    404: "No such resource (or not visible to this key)",
    409: "Not possible in the current state (stale quote, change needs a request, "
         "request in progress with the same Idempotency-Key, ...)",
    422: "A field has a value that is not allowed (the problem names it), or an "
         "Idempotency-Key was reused with another request",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route may give."""
    return {code: {"model": Problem, "description": _DESCRIPTIONS[code],
                   "content": {"application/problem+json": {
                       "schema": {"$ref": "#/components/schemas/Problem"}}}}
            for code in codes}


def secure(response: Response) -> Response:
    for name, value in API_SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def action_required(pending: PaymentActionRequired) -> Response:
    """202: the customer's bank asks them to authenticate (3-D Secure); Stripe.js finishes
    it with `client_secret` (`confirmCardPayment`), then the same request is sent again."""
    return secure(JSONResponse(status_code=202, content={
        "status": "requires_action", "client_secret": pending.client_secret,
        "payment_intent": pending.provider_id, "detail": pending.message}))


ACTION_REQUIRED: dict[int | str, dict[str, Any]] = {202: {
    "model": ActionRequiredOut,
    "description": "The bank asks the customer to authenticate (3-D Secure): nothing applied"
                   " yet."}}


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _secret_of(request: Request) -> str:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "unauthorized",
                         "Send an API key in the header 'Authorization: Bearer <key>'.",
                         headers={"WWW-Authenticate": 'Bearer realm="canone"'})
    return secret.strip()


async def authenticated(request: Request) -> ApiKey:
    """`authenticate` without a trip to the thread pool when the key is known already (from
    this request, or found in the last `apikeys.CACHE_SECONDS`)."""
    known: ApiKey | None = getattr(request.state, "api_key", None)
    if known is None and (known := apikeys.recent(_secret_of(request))) is not None:
        request.state.api_key = known
    return known if known is not None else await run_in_threadpool(authenticate, request)


def authenticate(request: Request) -> ApiKey:
    """The request's live API key (looked up once per request), or a 401 problem."""
    known: ApiKey | None = getattr(request.state, "api_key", None)
    if known is not None:
        return known
    key = apikeys.find(services_of(request), _secret_of(request))
    if key is None:
        raise ApiProblem(401, "unauthorized", "The API key is not valid or was revoked.",
                         headers={"WWW-Authenticate":
                                  'Bearer realm="canone", error="invalid_token"'})
    request.state.api_key = key
    return key


_bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                     description="An API key (ck_live_… or ck_test_…) from `canone apikey "
                                 "create`: operator keys see every account, account keys one.")


# The dependencies are coroutines that do not block: FastAPI runs a plain function
# dependency in the thread pool, a hand-off to a thread and back for every one of them.
async def current_actor(request: Request,
                        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                        ) -> Actor:
    return apikeys.actor_of(await authenticated(request))


async def _services(request: Request) -> Services:
    return services_of(request)


def require_operator(actor: Actor, what: str) -> None:
    if actor.kind != OPERATOR:
        raise Forbidden(f"Only an operator API key can {what}.")


ActorDep = Annotated[Actor, Depends(current_actor)]
ServicesDep = Annotated[Services, Depends(_services)]
AccountId = Annotated[str, Path(pattern=ID_PATTERN, description="An account id (acc_…).")]
Limit = Annotated[int, Query(ge=1, le=100, description="How many items per page.")]
StartingAfter = Annotated[str | None, Query(
    pattern=ID_PATTERN, description="The `next_cursor` of the previous page.")]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=255,
    description="Send a unique key (e.g. a UUID) with every POST: a retry with the same key "
                "and body replays the first response instead of acting twice; the same key "
                "with another body is refused (422). Keys are kept for at least 24 hours.")]


class ApiRoute(APIRoute):
    """Every error becomes a problem response here, so replays can store it and no
    traceback ever reaches a client; POSTs with an Idempotency-Key are made idempotent."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        changes_nothing_ = getattr(self.endpoint, "changes_nothing", False)
        rides_along_ = getattr(self.endpoint, "rides_along", False)

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code != 400:
                    raise
                # FastAPI's answer to a body that is not UTF-8: a bad field like any other.
                problem = ApiProblem(422, "invalid_field", "body: not JSON text in UTF-8",
                                     field="body", errors=[{"field": "body",
                                                            "message": "not JSON in UTF-8"}])
                request.state.problem = problem
                return response_for(problem)
            except KeyTaken:  # for `once`: another request has the key
                raise
            except Exception as exc:  # mapped once, in web/problems.py
                response = response_for(exc)
                request.state.problem = exc
                return response

        async def route(request: Request) -> Response:
            try:
                if request.method == "POST" and "idempotency-key" in request.headers:
                    key = await authenticated(request)
                    svc = services_of(request)
                    if changes_nothing_:
                        response = await idempotency.once_without_effect(
                            request, svc, key.id, run)
                    else:
                        response = await idempotency.once(request, svc, key.id, run,
                                                          ride=rides_along_)
                else:
                    response = await run(request)
            except Exception as exc:
                response = response_for(exc)
            return secure(response)

        return route


def changes_nothing(endpoint: Endpoint) -> Endpoint:
    """Mark a POST route that changes nothing (a preview): its Idempotency-Key needs no
    claim before it runs, only its response stored after (see `idempotency`)."""
    endpoint.changes_nothing = True  # type: ignore[attr-defined]
    return endpoint


def rides_along(endpoint: Endpoint) -> Endpoint:
    """Mark a POST route whose Idempotency-Key claim may ride its first committed write
    transaction (`idempotency.once`): one that does nothing outside the database before
    that transaction commits (the confirmation: its card is charged after its intent is
    committed). Another route claims the key first, in a transaction of its own, so that
    concurrent requests with one key never both reach a provider."""
    endpoint.rides_along = True  # type: ignore[attr-defined]
    return endpoint


def api_router(**options: Any) -> APIRouter:
    return APIRouter(route_class=ApiRoute, **options)
