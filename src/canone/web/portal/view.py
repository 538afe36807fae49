"""The Billing & Upgrade page as data for its template: every amount priced here, in
Python, with the billing core (the template only lays it out)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from canone.billing.catalog import Catalog
from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration, validate
from canone.billing.entitlements import features
from canone.billing.errors import InvalidField
from canone.billing.invoicing import InvoiceStatus
from canone.billing.money import from_minor
from canone.billing.pricing import CUSTOM, price
from canone.services.overview import BillingOverview
from canone.web.i18n import Translator
from canone.web.portal import labels
from canone.web.portal.quoting import request_fields

THRESHOLDS = (100, 90, 75)  # usage banners, highest first


@dataclass(frozen=True)
class TierCard:
    code: str
    name: str
    state: str  # "current", "upgrade", "lower" or "custom"
    price: str  # for the current contacts, seats and interval ("" when custom)
    gained: tuple[str, ...]  # a few of the features it adds
    fields: str  # JSON for the dialog or the request form


@dataclass(frozen=True)
class AddOnCard:
    code: str
    name: str
    blurb: str
    state: str  # "owned", "included", "available" or "unavailable"
    price: str
    where: str  # for "unavailable": the tiers that offer it


@dataclass(frozen=True)
class Banner:
    level: str  # "warn" or "error"
    threshold: int
    text: str


@dataclass
class BillingPage:
    config: Configuration
    config_json: dict[str, Any]
    plan_name: str
    interval: str
    per_period: str
    total: str
    custom: bool
    contacts_used: str
    contacts_limit: str
    usage_percent: int
    seats: int
    active_users: int
    max_seats: int | None
    addons: list[str]
    features: list[str]
    pending: str | None
    banners: list[Banner]
    tiers: list[TierCard]
    addon_cards: list[AddOnCard]
    steps: list[int]
    step_labels: list[str]
    step_index: int
    yearly: dict[str, str] | None  # monthly → annual offer
    bundle_offer: list[str] | None  # features the bundle adds
    balance: str
    requests: list[dict[str, str]] = field(default_factory=list)
    invoices: list[dict[str, str]] = field(default_factory=list)
    credit_notes: list[dict[str, str]] = field(default_factory=list)
    request_start: str = ""  # the request form's fields from "Contact us": no reason chosen
    request_choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unpaid: list[dict[str, str]] = field(default_factory=list)  # open invoices, oldest first
    restricted: bool = False  # past due: no new purchase until the unpaid invoices are paid
    # Open invoices whose SEPA debit is processing: on their way, nothing to pay meanwhile.
    debiting: list[dict[str, str]] = field(default_factory=list)
    payment_method: str = ""  # "Visa •••• 4242", "SEPA Direct Debit •••• 3000"; "" for none


def _price_text(tr: Translator, catalog: Catalog, config: Configuration) -> str:
    p = price(catalog, config)
    return "" if p.total is None else tr.money(p.total, config.currency)


def tier_cards(tr: Translator, catalog: Catalog, config: Configuration) -> list[TierCard]:
    product = catalog.products[config.product]
    have = features(catalog, config)
    cards = []
    for tier in product.tiers:
        rank = catalog.tier_rank(tier) - catalog.tier_rank(config.tier)
        target = _tiered(catalog, config, tier)
        state = "current" if rank == 0 else ("lower" if rank < 0 else "upgrade")
        text = "" if target is None else _price_text(tr, catalog, target)
        if state == "upgrade" and not text:
            state = "custom"
        gained = sorted(features(catalog, target) - have) if target and rank > 0 else []
        name = labels.named(tr, labels.TIERS, tier)
        if state == "upgrade":
            fields = json.dumps({"tier": tier, "tier_name": name})
        else:  # a request to support, prefilled with the tier asked for
            reason = ("tier_lower",) if state == "lower" else ("custom_price",)
            fields = request_fields(target or config.with_(tier=tier), reason)
        cards.append(TierCard(
            code=tier, name=name, state=state, price=text,
            gained=tuple(labels.named(tr, labels.FEATURES, f) for f in gained[:4]),
            fields=fields))
    return cards


def _tiered(catalog: Catalog, config: Configuration, tier: str) -> Configuration | None:
    """The configuration at another tier, seats clamped to its maximum; None if impossible."""
    plan = catalog.plan(config.product, tier)
    seats = min(config.seats, plan.max_seats) if plan.max_seats else config.seats
    addons = tuple(a for a in config.addons if catalog.addons[a].is_available(
        config.product, tier) or catalog.addons[a].is_included(config.product, tier))
    try:
        return validate(catalog, config.with_(tier=tier, seats=seats, addons=addons))
    except InvalidField:
        return None


def addon_cards(tr: Translator, catalog: Catalog, config: Configuration) -> list[AddOnCard]:
    cards = []
    factor = catalog.interval_factor(config.interval)
    for code, addon in catalog.addons.items():
        if code in config.addons:
            state = "owned"
        elif addon.is_included(config.product, config.tier):
            state = "included"
        elif addon.is_available(config.product, config.tier):
            state = "available"
        else:
            state = "unavailable"
        tiers = [labels.named(tr, labels.TIERS, t) for t in catalog.tiers
                 if t in addon.available.get(config.product, ())]
        cards.append(AddOnCard(
            code=code, name=labels.named(tr, labels.ADDONS, code),
            blurb=tr.gettext(labels.ADDON_BLURBS[code]) if code in labels.ADDON_BLURBS else "",
            state=state, price=tr.money(addon.price * factor, config.currency),
            where=", ".join(tiers)))
    return cards


def usage_share(used: int, limit: int) -> Decimal:
    """The share of the contact limit in use, a whole percent rounded half up (112.5 % is
    113 %), as a ratio for Babel: Babel's own rounding is half-even."""
    whole = (Decimal(used) * 100 / Decimal(limit)).quantize(Decimal(1), ROUND_HALF_UP)
    return whole / 100


def usage_banners(tr: Translator, used: int, limit: int | None) -> list[Banner]:
    """The highest threshold crossed sets the banner's level; its text says the real
    share and numbers (4,600 of 5,000 contacts is 92 %, not "90 %")."""
    if not limit:
        return []
    for threshold in THRESHOLDS:
        if used * 100 >= threshold * limit:
            values = {"pct": tr.percent(usage_share(used, limit)),
                      "used": tr.number(used), "limit": tr.number(limit)}
            if used > limit:
                text = tr.gettext("You are over your contact limit: %(used)s of %(limit)s "
                                  "contacts (%(pct)s). Raise the limit to keep adding "
                                  "contacts.") % values
            elif threshold == 100:
                text = tr.gettext("You have reached your contact limit: %(used)s of "
                                  "%(limit)s contacts (%(pct)s). Raise the limit to keep "
                                  "adding contacts.") % values
            else:
                text = tr.gettext("You have used %(pct)s of your contact limit: %(used)s of "
                                  "%(limit)s contacts.") % values
            return [Banner("error" if threshold == 100 else "warn", threshold, text)]
    return []


def yearly_offer(tr: Translator, catalog: Catalog, config: Configuration
                 ) -> dict[str, str] | None:
    if config.interval != "month" or "year" not in catalog.intervals:
        return None
    monthly, yearly = price(catalog, config), price(catalog, config.with_(interval="year"))
    if monthly.total is None or yearly.total is None:
        return None
    saving = monthly.total * 12 - yearly.total
    return {"monthly": tr.money(monthly.total, config.currency),
            "twelve_months": tr.money(monthly.total * 12, config.currency),
            "yearly": tr.money(yearly.total, config.currency),
            "saving": tr.money(saving, config.currency),
            "percent": tr.percent(catalog.yearly_discount)}


def bundle_offer(tr: Translator, catalog: Catalog, config: Configuration) -> list[str] | None:
    bundle = catalog.products.get("bundle")
    if bundle is None or config.product not in bundle.upgrade_from:
        return None
    tier = config.tier if config.tier in bundle.tiers else next(iter(bundle.tiers))
    gained = bundle.tiers[tier].features - features(catalog, config)
    return [labels.named(tr, labels.FEATURES, f) for f in sorted(gained)]


def build(tr: Translator, catalog: Catalog, o: BillingOverview) -> BillingPage:
    sub = o.subscription
    config = sub.config
    p = price(catalog, config)
    plan = catalog.plan(config.product, config.tier)
    limit = config.contacts
    steps = list(catalog.contact_steps)
    open_rows = open_invoices(tr, o)
    return BillingPage(
        config=config,
        config_json=config_to_json(config),
        plan_name=labels.plan_name(tr, config),
        interval=labels.named(tr, labels.INTERVALS, config.interval),
        per_period=labels.named(tr, labels.PER_INTERVAL, config.interval),
        total="" if p.total is None else tr.money(p.total, config.currency),
        custom=p.status == CUSTOM,
        contacts_used=tr.number(o.contacts_used),
        contacts_limit=tr.number(limit) if limit else "",
        usage_percent=min(100, o.contacts_used * 100 // limit) if limit else 0,
        seats=config.seats,
        active_users=o.seats_in_use,
        max_seats=plan.max_seats,
        addons=[labels.named(tr, labels.ADDONS, a) for a in config.addons],
        features=sorted(labels.named(tr, labels.FEATURES, f) for f in features(catalog, config)),
        pending=None if sub.pending is None else labels.describe_config(tr, catalog, sub.pending),
        banners=usage_banners(tr, o.contacts_used, limit),
        tiers=tier_cards(tr, catalog, config),
        addon_cards=addon_cards(tr, catalog, config),
        steps=steps,
        step_labels=[tr.number(s) for s in steps],
        step_index=steps.index(limit) if limit in steps else 0,
        yearly=yearly_offer(tr, catalog, config),
        bundle_offer=bundle_offer(tr, catalog, config),
        balance=tr.money(from_minor(o.balance), config.currency),
        requests=request_rows(tr, catalog, o),
        invoices=invoice_rows(tr, o),
        credit_notes=credit_note_rows(tr, o),
        request_start=request_fields(config, ()),
        request_choices=request_choices(tr, catalog),
        unpaid=[row for row in open_rows if row["id"] not in o.debiting],
        restricted=o.account.status == "past_due",
        debiting=[row for row in open_rows if row["id"] in o.debiting],
        payment_method=payment_method(tr, o),
    )


def payment_method(tr: Translator, o: BillingOverview) -> str:
    """The card or SEPA bank account on file as a person recognises it, no number."""
    card = o.account.card
    return "" if card is None else labels.payment_method_name(tr, card)


def request_rows(tr: Translator, catalog: Catalog, o: BillingOverview) -> list[dict[str, str]]:
    """The account's latest change requests (five at most), as the page lists them."""
    zone = ZoneInfo(o.account.timezone)
    return [{
        "id": r.id, "status": r.status,
        "status_label": labels.named(tr, labels.REQUEST_STATUSES, r.status),
        "what": labels.describe_config(tr, catalog, r.desired) if r.desired else r.message,
        "reason": labels.named(tr, labels.REASONS, r.reason) if r.reason else "",
        "created": tr.date(r.created_at.astimezone(zone), "medium"),
    } for r in o.requests[:5]]


def invoice_rows(tr: Translator, o: BillingOverview) -> list[dict[str, str]]:
    """The account's invoices, as the page lists them."""
    return [{
        "id": inv.id, "number": inv.number,
        "date": tr.date(inv.issued_on, "medium"),  # the seller's calendar (§8)
        "kind": labels.named(tr, labels.INVOICE_KINDS, inv.kind),
        "total": tr.money_minor(inv.total, inv.currency),
        **_status(tr, inv.status, inv.id in o.debiting),
    } for inv in o.invoices]


def credit_note_rows(tr: Translator, o: BillingOverview) -> list[dict[str, str]]:
    """The account's credit notes (SPEC §8), as the page lists them under its invoices."""
    return [{
        "id": note.id, "number": note.number, "invoice_number": note.invoice_number,
        "date": tr.date(note.issued_on, "medium"),
        "reason": labels.named(tr, labels.CREDIT_REASONS, note.reason),
        "total": tr.money_minor(note.total, note.currency),
        "settlement": labels.named(tr, labels.SETTLEMENTS, note.settlement),
    } for note in o.credit_notes]


def _status(tr: Translator, status: str, debiting: bool) -> dict[str, str]:
    """An invoice's status as the list shows it: an open one whose SEPA debit is on its
    way is not unpaid."""
    if debiting:
        return {"status": "processing", "status_label": tr.gettext("Debit processing")}
    return {"status": status, "status_label": labels.named(tr, labels.INVOICE_STATUSES, status)}


def request_choices(tr: Translator, catalog: Catalog) -> dict[str, list[tuple[str, str]]]:
    """What the request form offers to pick: products, tiers and add-ons, by name."""
    return {
        "products": [(code, labels.named(tr, labels.PRODUCTS, code)) for code in catalog.products],
        "tiers": [(code, labels.named(tr, labels.TIERS, code)) for code in catalog.tiers],
        "addons": [(code, labels.named(tr, labels.ADDONS, code)) for code in catalog.addons],
    }


def open_invoices(tr: Translator, o: BillingOverview) -> list[dict[str, str]]:
    """The open invoices the page leads with, oldest first, with the amount left to pay."""
    found = []
    for inv in reversed(o.invoices):
        if inv.status != InvoiceStatus.OPEN:
            continue
        period = ""
        if inv.period_start is not None and inv.period_end is not None:
            period = f"{tr.date(inv.period_start, 'medium')} – {tr.date(inv.period_end, 'medium')}"
        found.append({"id": inv.id, "number": inv.number, "period": period,
                      "date": tr.date(inv.issued_on, "medium"),  # the seller's calendar (§8)
                      "kind": labels.named(tr, labels.INVOICE_KINDS, inv.kind),
                      "due": tr.money_minor(inv.amount_due, inv.currency)})
    return found


def bundle_addons(tr: Translator, catalog: Catalog, config: Configuration
                  ) -> list[dict[str, Any]]:
    """The add-ons of the bundle configurator, with the tiers that sell or include each."""
    factor = catalog.interval_factor(config.interval)
    found = []
    for code, addon in catalog.addons.items():
        sold = [labels.named(tr, labels.TIERS, t) for t in catalog.tiers
                if addon.is_available(config.product, t)]
        included = [labels.named(tr, labels.TIERS, t) for t in catalog.tiers
                    if addon.is_included(config.product, t)]
        if not sold and not included:
            continue
        notes = []
        if sold:
            notes.append(tr.gettext("available on %(tiers)s") % {"tiers": ", ".join(sold)})
        if included:
            notes.append(tr.gettext("included in %(tiers)s") % {"tiers": ", ".join(included)})
        found.append({"code": code, "name": labels.named(tr, labels.ADDONS, code),
                      "price": tr.money(addon.price * factor, config.currency),
                      "per_period": labels.named(tr, labels.PER_INTERVAL, config.interval),
                      "checked": code in config.addons, "note": "; ".join(notes)})
    return found
