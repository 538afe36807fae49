"""The JSON API under /api/v1 (SPEC §7). Its OpenAPI document is at /openapi.json and its
docs page at /docs.

Conventions, for every route:
- `Authorization: Bearer <api key>`: operator keys see every account and act as support
  staff; account keys see one account (another account's resources are 404).
- `Idempotency-Key` on every POST (see `idempotency`): send one with each POST.
- Errors are RFC 9457 problem details (`application/problem+json`) with a stable `type`
  (`urn:canone:problem:<code>`) and, for bad input, the `field`.
- Amounts are strings with two decimals; dates and instants are ISO 8601.
- Lists take `limit` (1–100, default 20) and `starting_after` (an id) and answer
  `{"data": [...], "has_more": bool, "next_cursor": id or null}`; pass `next_cursor` as
  `starting_after` for the next page.
"""

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from canone.web.api import (
    accounts,
    billing_details,
    credit_notes,
    invoices,
    operations,
    requests,
    webhooks,
)

PREFIX = "/api/v1"


class _ApiRouter(APIRouter):
    """Routes all under PREFIX: any other path is no match without trying each route. The
    API's routes come before the pages' (whose paths may not shadow them), so every page
    request and live quote was matched against all of them first."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = get_route_path(scope)  # as each route reads it
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return Match.NONE, {}
        return super().matches(scope)


router = _ApiRouter(prefix=PREFIX)
for module in (operations, accounts, billing_details, requests, invoices, credit_notes,
               webhooks):
    router.include_router(module.router)
