"""Invoices and their PDFs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from starlette.concurrency import run_in_threadpool

from canone.services import invoices, standing
from canone.web.api import models
from canone.web.api.base import ActorDep, IdempotencyKey, ServicesDep, api_router, errors
from canone.web.api.models import ID_PATTERN
from canone.web.api.views import invoice_view

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
             responses=errors(401, 402, 403, 404, 422))
def pay_invoice(invoice_id: InvoiceId, actor: ActorDep, svc: ServicesDep,
                idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Pay an open invoice now with the card on file (a past-due account's way back): the
    next collection attempt, brought forward. A paid invoice is answered as it is; a
    declined card is a 402 and counts as an attempt."""
    return invoice_view(standing.pay_invoice(svc, actor, invoice_id))
