"""Records → the JSON of the API. Amounts are minor units in the records and strings with
two decimals here; configurations use the codec of `canone price`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from canone.billing.catalog import Catalog
from canone.billing.codec import config_to_json
from canone.billing.money import format_amount, from_minor
from canone.billing.parties import address_to_json, details_to_json
from canone.billing.tax import TaxTreatment
from canone.services.context import subscription_json
from canone.services.invoices import Ledger
from canone.services.records import (
    Account,
    ChangeRequest,
    Invoice,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
)

PREFIX = "/api/v1"


def money(minor: int) -> str:
    return format_amount(from_minor(minor))


def account_view(account: Account) -> dict[str, Any]:
    card = account.card
    return {
        "id": account.id, "name": account.name, "timezone": account.timezone,
        "locale": account.locale, "currency": account.currency, "status": account.status,
        "auto_upgrade": account.auto_upgrade,
        "card": None if card is None else {"brand": card.brand, "last4": card.last4,
                                           "exp_month": card.exp_month,
                                           "exp_year": card.exp_year},
        "created_at": account.created_at,
    }


def subscription_view(sub: Subscription) -> dict[str, Any]:
    return subscription_json(sub)


def invoice_view(invoice: Invoice) -> dict[str, Any]:
    seller = invoice.seller
    return {
        "id": invoice.id, "account_id": invoice.account_id,
        "subscription_id": invoice.subscription_id, "number": invoice.number,
        "kind": invoice.kind, "currency": invoice.currency, "issued_at": invoice.issued_at,
        "issued_on": invoice.issued_on,
        "period_start": invoice.period_start, "period_end": invoice.period_end,
        "lines": [{"key": line.key, "description": line.description,
                   "amount": money(line.amount)} for line in invoice.lines],
        "subtotal": money(invoice.subtotal),
        "tax_lines": [tax_view(line.treatment, line.taxable, line.amount)
                      for line in invoice.tax_lines],
        "customer": None if invoice.customer is None else details_to_json(invoice.customer),
        "seller": None if seller is None else {
            "legal_name": seller.legal_name, "vat_id": seller.vat_id,
            "tax_code": seller.tax_code, "address": address_to_json(seller.address)},
        "total": money(invoice.total), "credit_applied": money(invoice.credit_applied),
        "amount_paid": money(invoice.amount_paid), "amount_due": money(invoice.amount_due),
        "status": invoice.status, "pdf_url": f"{PREFIX}/invoices/{invoice.id}/pdf",
    }


def tax_view(treatment: TaxTreatment, taxable: int, amount: int) -> dict[str, Any]:
    """A tax line as the API shows it; its note in English (the PDF speaks the account's
    language)."""
    return {"rule": treatment.rule, "rate": format_amount(treatment.rate),
            "country": treatment.country, "taxable": money(taxable), "amount": money(amount),
            "note": treatment.note_text("en")}


def request_view(request: ChangeRequest) -> dict[str, Any]:
    return {
        "id": request.id, "account_id": request.account_id,
        "requester_email": request.requester_email,
        "desired": None if request.desired is None else config_to_json(request.desired),
        "reason": request.reason, "message": request.message, "status": request.status,
        "source": request.source, "verified": request.verified, "effective": request.effective,
        "created_at": request.created_at, "updated_at": request.updated_at,
        "history": [{"at": e.at, "actor": e.actor, "from_status": e.from_status,
                     "to_status": e.to_status, "message": e.message} for e in request.history],
    }


def ledger_view(ledger: Ledger) -> dict[str, Any]:
    return {
        "currency": ledger.currency, "balance": money(ledger.balance),
        "entries": [{"id": e.id, "amount": money(e.amount), "description": e.description,
                     "invoice_id": e.invoice_id, "credit_note_id": e.credit_note_id,
                     "created_at": e.created_at}
                    for e in ledger.entries],
    }


def endpoint_view(endpoint: WebhookEndpoint, with_secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {"id": endpoint.id, "account_id": endpoint.account_id,
                            "url": endpoint.url, "events": list(endpoint.events),
                            "created_at": endpoint.created_at}
    if with_secret:
        view["secret"] = endpoint.secret
    return view


def delivery_view(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "endpoint_id": delivery.endpoint_id, "event_id": delivery.event_id,
        "event_type": delivery.event_type, "payload": delivery.payload,
        "status": delivery.status, "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
        "created_at": delivery.created_at,
    }


def catalog_view(catalog: Catalog) -> dict[str, Any]:
    return {
        "version": catalog.version,
        "currencies": list(catalog.currencies),
        "intervals": list(catalog.intervals),
        "yearly_discount": str(catalog.yearly_discount),
        "tiers": list(catalog.tiers),
        "contact_steps": list(catalog.contact_steps),
        "products": [
            {"code": product.code, "name": product.name, "has_contacts": product.has_contacts,
             "tiers": [
                 {"tier": plan.tier,
                  "base": None if plan.base is None else [
                      None if amount is None else format_amount(amount) for amount in plan.base],
                  "seats_included": plan.seats_included,
                  "extra_seat": format_amount(plan.extra_seat),
                  "max_seats": plan.max_seats,
                  "features": sorted(plan.features)}
                 for plan in product.tiers.values()]}
            for product in catalog.products.values()],
        "addons": [
            {"code": addon.code, "name": addon.name, "price": format_amount(addon.price),
             "available": {p: sorted(t) for p, t in addon.available.items()},
             "included": {p: sorted(t) for p, t in addon.included.items()}}
            for addon in catalog.addons.values()],
    }


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)


def page(items: Sequence[T], limit: int, view: Callable[[T], dict[str, Any]]
         ) -> dict[str, Any]:
    """A page of a list fetched with limit + 1 rows: {data, has_more, next_cursor}."""
    has_more = len(items) > limit
    data = list(items[:limit])
    return {"data": [view(item) for item in data], "has_more": has_more,
            "next_cursor": data[-1].id if has_more and data else None}


def page_after(items: Sequence[T], limit: int, after: str | None,
               view: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """The same over a list held whole in memory."""
    start = 0
    if after is not None:
        ids = [item.id for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    return page(items[start:start + limit + 1], limit, view)
