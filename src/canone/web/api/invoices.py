"""Invoices and their PDFs."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Body, Path, Response
from starlette.concurrency import run_in_threadpool

from canone.billing.money import to_minor
from canone.services import invoices, refunds, standing
from canone.services.errors import PaymentActionRequired
from canone.web.api import models
from canone.web.api.base import (
    ACTION_REQUIRED,
    ActorDep,
    IdempotencyKey,
    ServicesDep,
    action_required,
    api_router,
    errors,
)
from canone.web.api.models import ID_PATTERN
from canone.web.api.views import invoice_view, money

router = api_router(tags=["invoices"])

InvoiceId = Annotated[str, Path(pattern=ID_PATTERN, description="An invoice id (inv_…).")]


@router.get("/invoices/{invoice_id}", response_model=models.InvoiceOut,
            responses=errors(401, 403, 404, 422))
def get_invoice(invoice_id: InvoiceId, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return invoice_view(invoices.invoice(svc, actor, invoice_id))


@router.get("/invoices/{invoice_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}},
                "description": "The invoice as a PDF, in the account's language."},
                **errors(401, 403, 404, 422)})
async def get_invoice_pdf(invoice_id: InvoiceId, actor: ActorDep, svc: ServicesDep
                          ) -> Response:
    found = await run_in_threadpool(invoices.invoice, svc, actor, invoice_id)
    pdf = await run_in_threadpool(invoices.invoice_pdf, svc, actor, invoice_id)
    filename = invoices.invoice_pdf_filename(found.number)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.post("/invoices/{invoice_id}/pay", response_model=models.InvoiceOut,
             responses={**ACTION_REQUIRED, **errors(401, 402, 403, 404, 422)})
def pay_invoice(invoice_id: InvoiceId, actor: ActorDep, svc: ServicesDep,
                idempotency_key: IdempotencyKey = None) -> Any:
    """Pay an open invoice now with the card on file (a past-due account's way back): the
    next collection attempt, brought forward. A paid invoice is answered as it is; a
    declined card is a 402 and counts as an attempt. With Stripe, 202 `requires_action`
    when the bank asks the customer to authenticate: finish it with Stripe.js
    (`confirmCardPayment` with the `client_secret`), then pay again: the invoice is paid
    once, when the payment has succeeded."""
    try:
        return invoice_view(standing.pay_invoice(svc, actor, invoice_id))
    except PaymentActionRequired as pending:
        return action_required(pending)


@router.post("/invoices/{invoice_id}/refunds", response_model=models.RefundOut,
             status_code=201, responses=errors(401, 402, 403, 404, 409, 422))
def refund_invoice(invoice_id: InvoiceId, actor: ActorDep, svc: ServicesDep,
                   body: Annotated[models.RefundIn | None, Body()] = None,
                   idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Staff: refund a paid invoice through the payment provider, in full (no `amount`) or
    in part. Never more than was paid and not refunded yet (422 on `amount`); 409 when
    there is nothing to refund or the provider refuses. The invoice is `refunded` once
    refunds cover what it was paid."""
    amount = to_minor(Decimal(body.amount)) if body and body.amount else None
    refund, invoice = refunds.refund_invoice(svc, actor, invoice_id, amount)
    return {"id": refund.id, "invoice_id": refund.invoice_id, "amount": money(refund.amount),
            "currency": refund.currency, "status": refund.status, "message": refund.message,
            "invoice": invoice_view(invoice)}
