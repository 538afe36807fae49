"""The support console (/console): the requests queue, a request with its change priced and
the actions on it (take, apply at period end, apply now with credit, decline), account
search and the account view with its invoices, ledger and audit trail.

Every action goes through `services.requests.transition` as the signed-in agent; the pages
only read. Support staff only (see `guard`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from canone.billing.errors import InvalidField
from canone.billing.money import to_minor
from canone.services import console, credit_notes, einvoice_files, invoices, refunds, requests
from canone.services.context import local_date
from canone.services.errors import ServiceError
from canone.services.payment_methods import is_sepa
from canone.services.requests import COMPLETED, DECLINED, IN_PROGRESS, NOW, PERIOD_END
from canone.web.auth import SignedIn, services_of
from canone.web.console import labels, views
from canone.web.console.guard import staff_page, staff_posting
from canone.web.portal import labels as portal_labels
from canone.web.problems import status_of
from canone.web.templating import PageRoute, render, translator_of

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)

Staff = Annotated[SignedIn, Depends(staff_page)]
PostingStaff = Annotated[SignedIn, Depends(staff_posting)]

# The actions on a request: (new status, effective) for requests.transition.
ACTIONS = {
    "take": (IN_PROGRESS, PERIOD_END),
    "apply_period_end": (COMPLETED, PERIOD_END),
    "apply_now": (COMPLETED, NOW),
    "complete": (COMPLETED, PERIOD_END),  # a request without a desired configuration
    "decline": (DECLINED, PERIOD_END),
}


def _page(request: Request, name: str, section: str, status_code: int = 200,
          **context: Any) -> HTMLResponse:
    svc = services_of(request)
    tr = translator_of(request)
    return render(request, f"console/{name}", {
        "section": section, "labels": labels, "catalog": svc.catalog,
        "plan_name": lambda config: labels.plan_name(tr, config),
        "plan_details": lambda config: labels.plan_details(tr, config),
        "line_label": lambda config, line: labels.line_label(tr, svc.catalog, config, line),
        "change_line_label": lambda change, line: labels.change_line_label(
            tr, svc.catalog, change, line),
        "when": lambda instant, tz="UTC": labels.when(tr, instant, tz),
        "local_date": local_date,
        "feature_label": lambda code: labels.feature_label(tr, code),
        "reason_label": lambda reason: labels.reason_label(tr, reason),
        "audit_summary": lambda entry, currency: labels.audit_summary(tr, entry, currency),
        "audit_sentence": lambda entry, currency: labels.audit_sentence(tr, entry, currency),
        "country_name": lambda code: labels.country_name(tr, code),
        "payment_method_name": lambda card: portal_labels.payment_method_name(tr, card),
        "is_sepa": is_sepa,
        **context,
    }, status_code=status_code)


@router.get("/login")
def console_login() -> RedirectResponse:
    """Support agents sign in on the shared sign-in page and come back here."""
    return RedirectResponse("/login?next=/console", 303)


@router.get("")
def queue(request: Request, signed_in: Staff, status: str = labels.ACTIVE,
          after: str | None = None) -> HTMLResponse:
    svc = services_of(request)
    found = views.queue(svc, signed_in.actor, status, after)
    return _page(request, "queue.html", "requests", queue=found,
                 disputes=console.open_disputes(svc, signed_in.actor))


@router.get("/requests/{request_id}")
def request_page(request: Request, request_id: str, signed_in: Staff,
                 done: str | None = None) -> HTMLResponse:
    detail = views.request_detail(services_of(request), signed_in.actor, request_id)
    return _page(request, "request.html", "requests", detail=detail, done=done)


@router.post("/requests/{request_id}")
def act_on_request(request: Request, request_id: str, signed_in: PostingStaff,
                   action: Annotated[str, Form()],
                   message: Annotated[str, Form()] = "") -> Response:
    svc = services_of(request)
    tr = translator_of(request)
    error, status = None, 409  # the form's own refusals: the request stays as it was
    if action not in ACTIONS:
        error = tr.gettext("Choose one of the actions on this page.")
    elif action == "decline" and not message.strip():
        error = tr.gettext("Write the message the customer will receive: say why the request "
                           "is declined.")
    else:
        to, effective = ACTIONS[action]
        try:
            requests.transition(svc, signed_in.actor, request_id, to, effective, message.strip())
        except (ServiceError, InvalidField) as exc:
            error, status = _why_not(tr.gettext, exc), status_of(exc)
        else:
            return RedirectResponse(f"/console/requests/{request_id}?done={action}", 303)
    detail = views.request_detail(svc, signed_in.actor, request_id)
    return _page(request, "request.html", "requests", detail=detail, error=error,
                 message=message, failed_action=action, status_code=status)


def _why_not(gettext: Any, exc: Exception) -> str:
    """The service's refusal in the agent's language, where it is one we know."""
    text = str(exc)
    if "cannot become" in text:
        return str(gettext("The request was handled meanwhile (its status changed). "
                           "Here it is as it is now."))
    if "came by email" in text:
        return str(gettext("This request came by email: take it first, to confirm the "
                           "sender, then apply it."))
    if "custom price" in text:
        return str(gettext("The desired plan has a custom price: agree it with sales and "
                           "set it up in the catalog first."))
    if "due for renewal" in text:
        return str(gettext("The subscription is due for renewal: run billing, then apply "
                           "the change."))
    return str(gettext("Nothing was changed: %(reason)s")) % {"reason": text}


@router.get("/accounts")
def accounts_page(request: Request, signed_in: Staff,
                  q: Annotated[str, Query(max_length=200)] = "",
                  after: str | None = None) -> HTMLResponse:
    found, more = console.find_accounts(services_of(request), signed_in.actor, q, after)
    return _page(request, "accounts.html", "accounts", q=q, found=found, next_after=more)


@router.get("/accounts/{account_id}")
def account_page(request: Request, account_id: str, signed_in: Staff,
                 refunded: str | None = None) -> HTMLResponse:
    view = console.account_view(services_of(request), signed_in.actor, account_id)
    return _page(request, "account.html", "accounts", view=view, refunded=refunded)


@router.post("/invoices/{invoice_id}/refund")
def refund_invoice(request: Request, invoice_id: str, signed_in: PostingStaff,
                   amount: Annotated[str, Form(max_length=20)] = "") -> Response:
    """The console's "Refund" button: all that is left, or `amount` of it (SPEC §9)."""
    svc = services_of(request)
    tr = translator_of(request)
    found = invoices.invoice(svc, signed_in.actor, invoice_id)
    try:
        refunds.refund_invoice(svc, signed_in.actor, invoice_id, _minor(amount))
    except (ServiceError, InvalidField) as exc:
        view = console.account_view(svc, signed_in.actor, found.account_id)
        error = str(tr.gettext("Nothing was refunded: %(reason)s")) % {"reason": str(exc)}
        return _page(request, "account.html", "accounts", view=view, error=error,
                     status_code=status_of(exc))
    return RedirectResponse(f"/console/accounts/{found.account_id}?refunded={found.number}",
                            303)


def _minor(amount: str) -> int | None:
    """The typed amount in minor units; empty: all that is left to refund."""
    text = amount.strip().replace(",", ".")
    if not text:
        return None
    try:
        return to_minor(Decimal(text))
    except InvalidOperation:
        raise InvalidField("amount", "must be an amount such as 12.50") from None


# -- SPEC §8: a credit note's PDF and the FatturaPA file of an invoice or credit note --------


@router.get("/accounts/{account_id}/credit-notes/{credit_note_id}/pdf")
def credit_note_pdf(request: Request, account_id: str, credit_note_id: str,
                    signed_in: Staff) -> Response:
    from canone.integrations.invoice_pdf import PdfInvoiceRenderer

    _, filename, pdf = credit_notes.credit_note_pdf(services_of(request), signed_in.actor,
                                                    account_id, credit_note_id,
                                                    PdfInvoiceRenderer())
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/accounts/{account_id}/documents/{document_id}/fatturapa.xml")
def einvoice_file(request: Request, account_id: str, document_id: str,
                  signed_in: Staff) -> Response:
    file = einvoice_files.einvoice_of(services_of(request), signed_in.actor, account_id,
                                      document_id)
    return Response(file.content, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{file.file_name}"'})
