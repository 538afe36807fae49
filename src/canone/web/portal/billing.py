"""The Billing & Upgrade page, the bundle configuration page and invoice PDFs."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from canone.billing.codec import config_to_json
from canone.services import credit_notes, invoices
from canone.services.context import Services
from canone.services.errors import existing
from canone.services.overview import BillingOverview, billing_overview
from canone.services.payment_methods import is_sepa
from canone.web.auth import SignedIn, services_of, signed_in_user
from canone.web.i18n import Translator
from canone.web.portal import details, labels, messages, view
from canone.web.portal.stripe_page import render_payment_page, stripe_page
from canone.web.templating import PageRoute, render, translator_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _overview(request: Request, signed_in: SignedIn) -> BillingOverview:
    """The page's data; a person without billing access gets the 403 page (PageRoute)."""
    return billing_overview(services_of(request), signed_in.actor, signed_in.customer.account_id)


def _confirmation(tr: Translator, o: BillingOverview, invoice_id: str | None
                  ) -> dict[str, Any] | None:
    """The invoice just paid, for the confirmation at the top of the page: by card, by
    SEPA Direct Debit, or with that debit still processing (the change applied at once)."""
    found = next((inv for inv in o.invoices if inv.id == invoice_id), None)
    if found is None:
        return None
    card = o.account.card
    return {"id": found.id, "number": found.number,
            "total": tr.money_minor(found.total, found.currency),
            "paid": tr.money_minor(found.amount_paid, found.currency),
            "due": tr.money_minor(found.amount_due, found.currency),
            "debiting": found.id in o.debiting, "sepa": is_sepa(card),
            "last4": card.last4 if card else ""}


@router.get("/billing", response_class=HTMLResponse)
async def billing_page(request: Request, done: str | None = None, error: str | None = None,
                       invoice: str | None = None) -> Response:
    # Sign-in, reads and rendering in one trip to the thread pool (each trip costs).
    return await run_in_threadpool(_billing_page, request, done, error, invoice)


def _billing_page(request: Request, done: str | None, error: str | None,
                  invoice: str | None) -> Response:
    svc = services_of(request)
    with svc.one_read():
        signed_in = signed_in_user(request)
        o = _overview(request, signed_in)
    tr = translator_of(request)
    page = view.build(tr, svc.catalog, o)
    return render_payment_page(request, "portal/billing.html", {
        "o": o, "page": page, "sub": o.subscription, "account": o.account,
        "done": messages.done_text(tr, done), "error": messages.error_text(tr, error),
        "error_code": error, "confirmed": _confirmation(tr, o, invoice),
        "reasons": [(code, tr.gettext(text)) for code, text in labels.REASONS.items()],
        "next_billing": tr.date(o.subscription.period_end),
        "details": details.shown_details(tr, o.billing_details),
        **_sepa_context(request, o, svc),
    })


def _sepa_context(request: Request, o: BillingOverview, svc: Services) -> dict[str, Any]:
    """Whether the page offers SEPA Direct Debit (Stripe, an account billed in EUR), and the
    seller the customer's mandate authorises."""
    offered = stripe_page(request) is not None and o.account.currency == "EUR"
    return {"sepa_offered": offered,
            "seller_name": svc.seller.legal_name if svc.seller else "canone"}


@router.get("/billing/bundle", response_class=HTMLResponse)
def bundle_page(request: Request, signed_in: SignedIn = Depends(signed_in_user)) -> Response:
    """"Complete your bundle": tier, contacts, seats and add-ons of the bundle to move to."""
    tr = translator_of(request)
    o = _overview(request, signed_in)
    catalog = services_of(request).catalog
    current = o.subscription.config
    bundle = catalog.products.get("bundle")
    if bundle is None or current.product not in bundle.upgrade_from:
        return render(request, "error.html", {
            "status": 409, "title": tr.gettext("Your plan already includes the bundle"),
            "message": tr.gettext("Go back to the Billing & Upgrade page to change it."),
            "back_url": "/billing", "back_label": tr.gettext("Billing & Upgrade")},
            status_code=409)
    tiers = list(bundle.tiers)
    tier = current.tier if current.tier in tiers else tiers[0]
    steps = list(catalog.contact_steps)
    contacts = current.contacts if current.contacts in steps else steps[0]
    plan = bundle.tiers[tier]
    start = current.with_(product="bundle", tier=tier, contacts=contacts,
                          seats=max(current.seats, plan.seats_included))
    return render_payment_page(request, "portal/bundle.html", {
        "o": o, "account": o.account, "current": config_to_json(current),
        "start": config_to_json(start), "current_name": labels.plan_name(tr, current),
        "tiers": [(t, labels.named(tr, labels.TIERS, t),
                   tr.ngettext("%(n)s user seat included", "%(n)s user seats included",
                               bundle.tiers[t].seats_included)
                   % {"n": bundle.tiers[t].seats_included}) for t in tiers],
        "steps": steps, "step_labels": json.dumps([tr.number(s) for s in steps]),
        "step_index": steps.index(contacts), "step_label": tr.number(contacts),
        "addons": view.bundle_addons(tr, catalog, start),
        "offer": view.bundle_offer(tr, catalog, current) or [],
    })


@router.get("/billing/invoices/{invoice_id}.pdf")
def invoice_pdf(request: Request, invoice_id: str,
                signed_in: SignedIn = Depends(signed_in_user)) -> Response:
    svc = services_of(request)
    document = invoices.invoice_document(svc, signed_in.actor, invoice_id)
    return _pdf(svc.renderer.render(document),
                invoices.invoice_pdf_filename(document.number, document.locale))


def _pdf(pdf: bytes, filename: str) -> Response:
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, no-store"})


@router.get("/billing/credit-notes/{credit_note_id}.pdf")
def credit_note_pdf(request: Request, credit_note_id: str,
                    signed_in: SignedIn = Depends(signed_in_user)) -> Response:
    svc = services_of(request)
    account = existing(signed_in.account, "the signed-in user's account")
    _, filename, pdf = credit_notes.credit_note_pdf(svc, signed_in.actor, account.id,
                                                    credit_note_id, svc.renderer)
    return _pdf(pdf, filename)
