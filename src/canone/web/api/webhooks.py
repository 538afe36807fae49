"""Webhook endpoints and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from canone.services import endpoints
from canone.web.api import models
from canone.web.api.base import (
    ActorDep,
    IdempotencyKey,
    Limit,
    ServicesDep,
    StartingAfter,
    api_router,
    errors,
    settings_of,
)
from canone.web.api.models import ID_PATTERN
from canone.web.api.views import delivery_view, endpoint_view, page

router = api_router(tags=["webhooks"])

AccountFilter = Annotated[str | None, Query(
    pattern=ID_PATTERN, description="Operator keys: only this account's.")]


@router.post("/webhook-endpoints", status_code=201, response_model=models.WebhookEndpointCreated,
             responses=errors(401, 403, 404, 409, 422))
def register_endpoint(body: models.WebhookEndpointIn, request: Request, actor: ActorDep,
                      svc: ServicesDep, idempotency_key: IdempotencyKey = None
                      ) -> dict[str, Any]:
    """Register a URL for events (`events`: types, or `["*"]`). Deliveries are signed with
    the Standard Webhooks scheme (headers webhook-id, webhook-timestamp, webhook-signature;
    HMAC-SHA256 with the `secret`, which is shown only in this response). The url must be
    on public addresses: loopback, private, link-local and metadata addresses are refused
    (422 on `url`) unless the operator allows them."""
    allow = settings_of(request).webhooks_allow_private
    endpoint = endpoints.register(svc, actor, body.url, body.events, body.account_id,
                                  allow_private=allow)
    return endpoint_view(endpoint, with_secret=True)


@router.get("/webhook-endpoints", response_model=list[models.WebhookEndpointOut],
            responses=errors(401, 403, 404, 422))
def list_endpoints(actor: ActorDep, svc: ServicesDep, account_id: AccountFilter = None
                   ) -> list[dict[str, Any]]:
    return [endpoint_view(e) for e in endpoints.endpoints_of(svc, actor, account_id)]


@router.get("/webhook-deliveries", response_model=models.WebhookDeliveryPage,
            responses=errors(401, 403, 404, 422))
def list_deliveries(actor: ActorDep, svc: ServicesDep, account_id: AccountFilter = None,
                    limit: Limit = 20, starting_after: StartingAfter = None) -> dict[str, Any]:
    """Every delivery attempt's state, newest first."""
    found = endpoints.deliveries(svc, actor, account_id, limit + 1, starting_after)
    return page(found, limit, delivery_view)
