"""`POST /webhooks/stripe` (SPEC §9): Stripe's events, the signature checked with the SDK,
no API key. A wrong signature is a 400 and changes nothing; an answer Stripe could not be
asked for is a 503, which Stripe retries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from canone.integrations.payments.stripe_events import WebhookRejected, verify_event
from canone.services.ports import GatewayTimeout
from canone.services.provider_events import apply_payment_event
from canone.web.problems import problem

router = APIRouter()


@router.post("/webhooks/stripe", include_in_schema=False)
async def stripe_webhook(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    if settings.payments != "stripe" or not settings.stripe_webhook_secret:
        return problem(404, "not_found", "Stripe is not this server's payment provider.")
    body = await request.body()
    try:
        event = verify_event(body, request.headers.get("stripe-signature"),
                             settings.stripe_webhook_secret)
    except WebhookRejected as exc:
        return problem(400, "bad_signature", str(exc))
    try:
        result = await run_in_threadpool(apply_payment_event, request.app.state.services,
                                         event)
    except GatewayTimeout as exc:
        return problem(503, "provider_unavailable", f"Stripe could not be asked: {exc}")
    return JSONResponse({"received": event.id, "type": event.type, "result": result})
