"""Credit notes (SPEC §8) and the FatturaPA file of every invoice and credit note."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from canone.billing.parties import details_to_json
from canone.services import credit_notes, einvoice_files, invoices
from canone.services.documents import CreditNote, EInvoice
from canone.web.api import base, models
from canone.web.api.models import ID_PATTERN, Amount
from canone.web.api.views import PREFIX, money, page, tax_view

router = base.api_router(tags=["credit notes"])

CreditNoteId = Annotated[str, Path(pattern=ID_PATTERN, description="A credit note id (cn_…).")]
InvoiceId = Annotated[str, Path(pattern=ID_PATTERN, description="An invoice id (inv_…).")]


class CreditNoteLineOut(BaseModel):
    key: str
    description: str
    amount: Amount = Field(description="Net, positive.")


class CreditTaxLineOut(BaseModel):
    """As an invoice's tax line (`TaxLineOut`), and `late_reduction`: no VAT on a reduction
    agreed more than a year after the invoice (art. 26(3) DPR 633/72)."""

    rule: Literal["domestic", "reverse_charge", "oss", "outside_scope", "late_reduction"]
    rate: models.Rate
    country: str = Field(examples=["IT"])
    taxable: Amount
    amount: Amount
    note: str = Field(examples=["VAT 22 %"])


class EInvoiceOut(BaseModel):
    file_name: str = Field(examples=["IT12345670017_00001.xml"])
    state: str = Field(description="pending (made), handed_over (in the intermediary's "
                       "folder), or SDI's answer: delivered, not_delivered, rejected.")
    sdi_errors: list[dict[str, str]] = Field(description="SDI's error codes, when rejected.")
    url: str


class CreditNoteOut(BaseModel):
    id: str
    account_id: str
    number: str = Field(examples=["NC-2026-000001"])
    invoice_id: str = Field(description="The invoice it corrects.")
    invoice_number: str
    invoice_date: date
    reason: Literal["unused_time", "superseded_payment", "refund"]
    settlement: Literal["balance", "card"] = Field(
        description="balance: credited to the account's balance; card: refunded.")
    currency: str
    issued_at: datetime
    issued_on: date = Field(description="Its date in the seller's calendar (Europe/Rome).")
    lines: list[CreditNoteLineOut]
    subtotal: Amount
    tax_lines: list[CreditTaxLineOut] = Field(description="The rule of the invoice it "
                                              "corrects.")
    customer: models.CustomerOut | None = Field(description="The customer of that invoice.")
    total: Amount = Field(description="Gross: what was given back.")
    pdf_url: str
    einvoice: EInvoiceOut | None = Field(description="null while the seller files no "
                                         "e-invoices.")


class CreditNotePage(models.Page):
    data: list[CreditNoteOut]


def _einvoice(file: EInvoice | None, url: str) -> dict[str, Any] | None:
    if file is None:
        return None
    return {"file_name": file.file_name, "state": file.state,
            "sdi_errors": list(file.sdi.get("errors", [])), "url": url}


def credit_note_view(note: CreditNote, file: EInvoice | None = None) -> dict[str, Any]:
    base = f"{PREFIX}/accounts/{note.account_id}/credit-notes/{note.id}"
    return {
        "id": note.id, "account_id": note.account_id, "number": note.number,
        "invoice_id": note.invoice_id, "invoice_number": note.invoice_number,
        "invoice_date": note.invoice_date, "reason": note.reason,
        "settlement": note.settlement, "currency": note.currency,
        "issued_at": note.issued_at, "issued_on": note.issued_on,
        "lines": [{"key": line.key, "description": line.description,
                   "amount": money(line.amount)} for line in note.lines],
        "subtotal": money(note.subtotal),
        "tax_lines": [tax_view(t.treatment, t.taxable, t.amount) for t in note.tax_lines],
        "customer": None if note.customer is None else details_to_json(note.customer),
        "total": money(note.total), "pdf_url": f"{base}/pdf",
        "einvoice": _einvoice(file, f"{base}/fatturapa.xml"),
    }


@router.get("/accounts/{account_id}/credit-notes", response_model=CreditNotePage,
            responses=base.errors(401, 403, 404, 422))
def list_credit_notes(account_id: base.AccountId, actor: base.ActorDep, svc: base.ServicesDep,
                      limit: base.Limit = 20, starting_after: base.StartingAfter = None
                      ) -> dict[str, Any]:
    """Newest first."""
    found = credit_notes.credit_notes_of(svc, actor, account_id, limit + 1, starting_after)
    files = einvoice_files.files_of(svc, actor, account_id, [n.id for n in found])
    return page(found, limit, lambda note: credit_note_view(note, files.get(note.id)))


@router.get("/accounts/{account_id}/credit-notes/{credit_note_id}",
            response_model=CreditNoteOut, responses=base.errors(401, 403, 404, 422))
def get_credit_note(account_id: base.AccountId, credit_note_id: CreditNoteId, actor: base.ActorDep,
                    svc: base.ServicesDep) -> dict[str, Any]:
    note = credit_notes.credit_note(svc, actor, account_id, credit_note_id)
    files = einvoice_files.files_of(svc, actor, account_id, [note.id])
    return credit_note_view(note, files.get(note.id))


def _file_response(media_type: str, schema: dict[str, str], description: str
                   ) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {"schema": schema}}, "description": description}}


PDF = _file_response("application/pdf", {"type": "string", "format": "binary"},
                     "The credit note as a PDF, in the account's language.")
XML = _file_response("application/xml", {"type": "string"},
                     "The FatturaPA 1.2.2 file, as handed to SDI.")


@router.get("/accounts/{account_id}/credit-notes/{credit_note_id}/pdf",
            response_class=Response, responses={**PDF, **base.errors(401, 403, 404, 422)})
async def get_credit_note_pdf(account_id: base.AccountId, credit_note_id: CreditNoteId,
                              actor: base.ActorDep, svc: base.ServicesDep) -> Response:
    from canone.integrations.invoice_pdf import PdfInvoiceRenderer

    _, filename, pdf = await run_in_threadpool(credit_notes.credit_note_pdf, svc, actor,
                                               account_id, credit_note_id, PdfInvoiceRenderer())
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _xml(file: EInvoice) -> Response:
    return Response(file.content, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{file.file_name}"'})


@router.get("/accounts/{account_id}/credit-notes/{credit_note_id}/fatturapa.xml",
            response_class=Response, responses={**XML, **base.errors(401, 403, 404, 422)})
def get_credit_note_fatturapa(account_id: base.AccountId, credit_note_id: CreditNoteId,
                              actor: base.ActorDep, svc: base.ServicesDep) -> Response:
    """404 while the seller files no e-invoices (no file was made)."""
    return _xml(einvoice_files.einvoice_of(svc, actor, account_id, credit_note_id))


@router.get("/invoices/{invoice_id}/fatturapa.xml", response_class=Response,
            responses={**XML, **base.errors(401, 403, 404, 422)}, tags=["invoices"])
def get_invoice_fatturapa(invoice_id: InvoiceId, actor: base.ActorDep, svc: base.ServicesDep
                          ) -> Response:
    """404 while the seller files no e-invoices (no file was made)."""
    found = invoices.invoice(svc, actor, invoice_id)
    return _xml(einvoice_files.einvoice_of(svc, actor, found.account_id, invoice_id))
