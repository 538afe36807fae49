"""The catalog, billing runs and the test clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import Request

from canone.services import clock, payments, renewal
from canone.services.access import Actor
from canone.web.api import models
from canone.web.api.base import (
    ActorDep,
    IdempotencyKey,
    ServicesDep,
    api_router,
    errors,
    require_operator,
    settings_of,
)
from canone.web.api.views import catalog_view
from canone.web.problems import ApiProblem

router = api_router(tags=["operations"])

# A run bills every period that ends before `until`; a far-off `until` would bill centuries.
MAX_RUN_AHEAD = timedelta(days=3 * 366)


@router.get("/catalog", response_model=models.CatalogOut, responses=errors(401),
            tags=["catalog"])
def get_catalog(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """The catalog in effect: products, tiers, monthly prices per contact step, seats and
    add-ons (yearly prices are monthly × 12 × (1 − yearly_discount))."""
    return catalog_view(svc.catalog)


@router.post("/billing-runs", response_model=models.BillingRunOut,
             responses=errors(401, 403, 409, 422))
def billing_run(body: models.BillingRunIn, actor: ActorDep, svc: ServicesDep,
                idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Renew every subscription due up to `until` (default now; at most about three years
    ahead), collect open invoices and settle payments whose outcome was lost. Operator keys
    only."""
    require_operator(actor, "run billing")
    if body.until is not None and body.until > svc.now() + MAX_RUN_AHEAD:
        message = (f"at most {MAX_RUN_AHEAD.days} days after now ({svc.now().isoformat()}): "
                   "every period up to it would be billed")
        raise ApiProblem(422, "invalid_field", f"until: {message}", field="until",
                         errors=[{"field": "until", "message": message}])
    report = renewal.run(svc, body.until)
    settled = payments.reconcile(svc)
    return {"renewed": report.renewed, "cancelled": report.cancelled,
            "collected": report.collected, "failed": report.failed, "pending": report.pending,
            "reconciled": settled}


def _only_in_test_mode(request: Request, actor: Actor) -> None:
    if not settings_of(request).test_mode:
        raise ApiProblem(404, "not_found",
                         "The test clock exists only in test mode (CANONE_TEST_MODE=1).")
    require_operator(actor, "use the test clock")


@router.get("/test-clock", response_model=models.TestClockOut, responses=errors(401, 403, 404))
def get_test_clock(request: Request, actor: ActorDep, svc: ServicesDep) -> dict[str, datetime]:
    """Test mode only: the clock's now."""
    _only_in_test_mode(request, actor)
    return {"now": svc.now()}


@router.post("/test-clock", response_model=models.TestClockOut,
             responses=errors(401, 403, 404, 409, 422))
def move_test_clock(body: models.TestClockIn, request: Request, actor: ActorDep,
                    svc: ServicesDep, idempotency_key: IdempotencyKey = None
                    ) -> dict[str, datetime]:
    """Test mode only (404 otherwise): move the clock forward to `now`; it never moves back.
    Renewals then happen with `POST /billing-runs`."""
    _only_in_test_mode(request, actor)
    if body.now < svc.now():
        message = (f"{body.now.isoformat()} is before the clock's now "
                   f"{svc.now().isoformat()}; the test clock only moves forward")
        raise ApiProblem(422, "invalid_field", f"now: {message}", field="now",
                         errors=[{"field": "now", "message": message}])
    clock.move_test_clock(svc, body.now)
    return {"now": body.now}
