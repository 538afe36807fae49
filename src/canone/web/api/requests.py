"""Change requests ("Request account change") and their handling by support."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from canone.billing.codec import config_from_json
from canone.services import requests
from canone.services.errors import NotFound
from canone.web.api import base, models
from canone.web.api.models import ID_PATTERN
from canone.web.api.views import page, page_after, request_view

router = base.api_router(tags=["change requests"])

RequestId = Annotated[str, Path(pattern=ID_PATTERN, description="A change request id (req_…).")]
Status = Annotated[models.RequestStatus | None, Query(description="Only requests in this status.")]


@router.post("/accounts/{account_id}/change-requests", status_code=201,
             response_model=models.ChangeRequestOut, responses=base.errors(401, 403, 404, 409, 422))
def create_request(account_id: base.AccountId, body: models.ChangeRequestIn,
                   actor: base.ActorDep, svc: base.ServicesDep,
                   idempotency_key: base.IdempotencyKey = None) -> dict[str, Any]:
    """Ask support for a change that is not self-serve (`desired` CONFIG or null, `reason`,
    `message`); the requester is emailed now and on every status change."""
    desired = (None if body.desired is None
               else config_from_json(body.desired.model_dump(), "desired"))
    return request_view(requests.create(svc, actor, account_id, desired, body.reason,
                                        body.message, source="api"))


@router.get("/accounts/{account_id}/change-requests", response_model=models.ChangeRequestPage,
            responses=base.errors(401, 403, 404, 422))
def list_account_requests(account_id: base.AccountId, actor: base.ActorDep, svc: base.ServicesDep,
                          limit: base.Limit = 20, starting_after: base.StartingAfter = None
                          ) -> dict[str, Any]:
    """The account's requests, newest first."""
    found = requests.requests_of(svc, actor, account_id)
    return page_after(found, limit, starting_after, request_view)


@router.get("/change-requests", response_model=models.ChangeRequestPage,
            responses=base.errors(401, 403, 422))
def request_queue(actor: base.ActorDep, svc: base.ServicesDep, status: Status = None,
                  limit: base.Limit = 20, starting_after: base.StartingAfter = None
                  ) -> dict[str, Any]:
    """Support's queue, oldest first (operator keys only)."""
    found = requests.queue(svc, actor, status, limit + 1, starting_after)
    return page(found, limit, request_view)


@router.get("/change-requests/{request_id}", response_model=models.ChangeRequestOut,
            responses=base.errors(401, 403, 404, 422))
def get_request(request_id: RequestId, actor: base.ActorDep, svc: base.ServicesDep
                ) -> dict[str, Any]:
    try:
        return request_view(requests.get(svc, actor, request_id))
    except NotFound:  # also another account's request: say nothing about that account
        raise NotFound(f"no change request {request_id}") from None


@router.post("/change-requests/{request_id}/transitions", response_model=models.ChangeRequestOut,
             responses=base.errors(401, 403, 404, 409, 422))
def transition(request_id: RequestId, body: models.TransitionIn, actor: base.ActorDep,
               svc: base.ServicesDep, idempotency_key: base.IdempotencyKey = None
               ) -> dict[str, Any]:
    """Move a request: support (operator keys) takes it (`in_progress`), completes it —
    applying the desired change at period end (`effective: period_end`, the default) or now
    with the unused time credited (`now`) — or declines it; the account may withdraw it."""
    try:
        moved = requests.transition(svc, actor, request_id, body.to, body.effective,
                                    body.message)
    except NotFound:
        raise NotFound(f"no change request {request_id}") from None
    return request_view(moved)
