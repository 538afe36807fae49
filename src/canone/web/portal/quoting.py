"""A live quote for the page: the target configuration read from a dialog's fields, and
the service's quote turned into what people read before they confirm (amount due today,
the future price, features lost and gained)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from canone.billing.catalog import Catalog
from canone.billing.changes import NONE, REQUEST, SCHEDULED, UPGRADE
from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration
from canone.billing.errors import InvalidField
from canone.billing.periods import nth_period
from canone.services.quotes import Quote
from canone.web.i18n import Translator
from canone.web.portal import labels

CONFIG_FIELDS = ("product", "tier", "interval", "currency", "contacts", "seats")


def _text(value: Any, name: str) -> str:
    # A list or object is no field's value (and one nested deep would exhaust str()).
    if isinstance(value, list | dict):
        raise InvalidField(name, "must be a single value")
    return str(value)


def _int(value: Any, name: str) -> int:
    try:
        return int(_text(value, name).strip())
    except ValueError:
        raise InvalidField(name, "must be a whole number") from None


def _codes(value: Any) -> list[str]:
    if isinstance(value, list):
        return [code for v in value if (code := _text(v, "addons"))]
    return [code for code in _text(value or "", "addons").split(",") if code]


def target_from_fields(data: dict[str, Any]) -> Configuration:
    """The configuration a dialog asks for. Its fields hold the whole configuration (the
    page renders the current one into them), plus `add_addon` for an add-on purchase."""
    missing = [name for name in CONFIG_FIELDS if name not in data]
    if missing:
        raise InvalidField(missing[0], "required")
    addons = _codes(data.get("addons"))
    extra = _text(data.get("add_addon") or "", "add_addon")
    if extra and extra not in addons:
        addons.append(extra)
    contacts = data.get("contacts")
    return Configuration(
        product=_text(data["product"], "product"), tier=_text(data["tier"], "tier"),
        interval=_text(data["interval"], "interval"),
        currency=_text(data["currency"], "currency"),
        contacts=None if contacts in (None, "", "null") else _int(contacts, "contacts"),
        seats=_int(data["seats"], "seats"), addons=tuple(addons))


def desired_from_fields(catalog: Catalog, data: dict[str, Any]) -> Configuration:
    """The plan chosen in the "Request account change" form: product, tier and add-ons are
    picked there; the rest comes from the current (or prefilled) configuration, made to fit
    the choice: no contact limit for a product without one (the smallest step when moving
    to one that has it), seats within the tier's maximum, and add-ons the tier does not sell
    left out (they show as features lost)."""
    chosen = target_from_fields(data)
    product = catalog.products.get(chosen.product)
    if product is None or chosen.tier not in product.tiers:
        return chosen  # validation names the field
    contacts = chosen.contacts
    if not product.has_contacts:
        contacts = None
    elif contacts is None:
        contacts = catalog.contact_steps[0]
    plan = product.tiers[chosen.tier]
    seats = min(chosen.seats, plan.max_seats) if plan.max_seats else chosen.seats
    addons = tuple(code for code in chosen.addons if code in catalog.addons and (
        catalog.addons[code].is_available(chosen.product, chosen.tier)))
    return chosen.with_(contacts=contacts, seats=seats, addons=addons)


@dataclass
class QuoteView:
    kind: str
    token: str | None
    target: str  # the target configuration, described
    future_price: str  # the target's price per period ("" when custom)
    per_period: str
    due_today: str
    credit: str
    from_date: str  # when the future price starts (the next period)
    lines: list[tuple[str, str]] = field(default_factory=list)
    gained: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    request_fields: str = ""
    new_period: bool = False
    has_credit: bool = False
    partly_scheduled: bool = False  # an upgrade now with a reduction from the next period
    carried: bool = False  # under the provider's minimum charge: on the next invoice (§9)
    error: str = ""
    # SPEC §8: "Due today" is the total with its net and tax parts; the credit balance
    # pays part of it, and the card is charged the rest.
    net: str = ""
    tax_note: str = ""  # "VAT 22 %", "Reverse charge, art. 7-ter DPR 633/72", …
    tax: str = ""
    future_tax: str = ""  # the tax added to the (net) future price, "" when none
    balance_applied: str = ""  # "" when no balance is applied
    charged: str = ""

    @property
    def has_tax(self) -> bool:
        return bool(self.tax_note)

    def confirm_label(self, tr: Translator) -> str | None:
        return tr.gettext("Schedule the change") if self.kind == SCHEDULED else None


def quote_view(tr: Translator, catalog: Catalog, quote: Quote) -> QuoteView:
    change = quote.change
    target = change.target
    cur = target.currency
    period = change.period
    new_period = change.new_anchor is not None
    if change.new_anchor is not None:  # month → year: a new yearly period starts today
        next_start: date = nth_period(change.new_anchor, target.interval, 0).end
    else:
        next_start = period.end
    total = quote.target_price.total
    view = QuoteView(
        kind=change.kind, token=quote.token,
        target=labels.describe_config(tr, catalog, target),
        future_price="" if total is None else tr.money(total, cur),
        per_period=labels.named(tr, labels.PER_INTERVAL, target.interval),
        due_today=tr.money_minor(quote.charge.total, cur),
        credit=tr.money(change.credit, cur),
        from_date=tr.date(next_start),
        gained=sorted(labels.named(tr, labels.FEATURES, f) for f in change.features_gained),
        lost=sorted(labels.named(tr, labels.FEATURES, f) for f in change.features_lost),
        new_period=new_period, has_credit=change.credit > 0,
        partly_scheduled=change.kind == UPGRADE and change.scheduled is not None,
        carried=quote.carried,
    )
    _charge_parts(tr, quote, view)
    if change.kind == REQUEST:
        view.reasons = [labels.named(tr, labels.REASONS, r) for r in change.reasons]
        view.request_fields = request_fields(target, change.reasons)
    elif change.kind != NONE:
        view.lines = [(labels.describe_change_line(
            tr, catalog, line, change.current, change.immediate, change.remaining_days,
            period.days, new_period), tr.money(line.amount, cur)) for line in change.lines]
    return view


def _charge_parts(tr: Translator, quote: Quote, view: QuoteView) -> None:
    charge, cur = quote.charge, quote.change.target.currency
    view.net = tr.money_minor(charge.subtotal, cur)
    view.charged = tr.money_minor(charge.amount_paid, cur)  # the card pays it
    if charge.credit_applied:
        view.balance_applied = tr.money_minor(-charge.credit_applied, cur)
    treatment = quote.treatment
    if treatment is None:  # no seller: amounts are net, no tax to show
        return
    if treatment.rate:  # the future price is net: say what is added to it
        view.future_tax = treatment.note_text(tr.locale)
    if charge.subtotal:  # nothing due today (a scheduled reduction): no parts to show
        view.tax_note = treatment.note_text(tr.locale)
        view.tax = tr.money_minor(charge.tax, cur)


def request_fields(desired: Configuration, reasons: tuple[str, ...]) -> str:
    """The "Request account change" form's fields, prefilled with the plan asked for (a
    refused change, a lower tier) and its first reason; with no reason, none is chosen."""
    fields: dict[str, Any] = {
        name: "" if value is None else value
        for name, value in config_to_json(desired).items()}
    fields["reason"] = reasons[0] if reasons else ""
    return json.dumps(fields)


def error_view(message: str) -> QuoteView:
    return QuoteView(kind="error", token=None, target="", future_price="", per_period="",
                     due_today="", credit="", from_date="", error=message)
