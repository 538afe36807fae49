"""What the console shows in words: statuses, reasons, plans, price lines and instants, in
the agent's language. Codes stay codes in the data; they become words only here."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time

from canone.billing.catalog import Catalog
from canone.billing.changes import Change
from canone.billing.codec import config_from_json
from canone.billing.configuration import Configuration
from canone.billing.errors import InvalidField
from canone.billing.pricing import Line
from canone.services.einvoice_files import NO_DETAILS, UNTAXED
from canone.services.records import AuditEntry
from canone.services.requests import COMPLETED, DECLINED, IN_PROGRESS, OPEN, WITHDRAWN
from canone.web.i18n import N_, Translator
from canone.web.portal import labels as portal

STATUSES = portal.REQUEST_STATUSES
STATUS_BADGES = {OPEN: "accent", IN_PROGRESS: "warn", COMPLETED: "ok", DECLINED: "danger",
                 WITHDRAWN: ""}
# The queue's filters: "active" (open and in progress, the default), each status, or all.
ACTIVE, ALL = "active", "all"
FILTERS = {
    ACTIVE: N_("Open and in progress"),
    **STATUSES,
    ALL: N_("All"),
}
REASONS = portal.REASONS
SOURCES = {"portal": N_("Billing page"), "api": N_("API"), "email": N_("Email")}
ACCOUNT_STATUSES = {"active": N_("Active"), "past_due": N_("Past due (restricted)"),
                    "cancelled": N_("Cancelled")}
ACCOUNT_BADGES = {"active": "ok", "past_due": "danger", "cancelled": ""}
ROLES = {"primary_admin": N_("Primary admin"), "admin": N_("Admin"), "user": N_("User")}
INVOICE_KINDS = portal.INVOICE_KINDS
# SPEC §8: why a credit note was issued, where its money went, and its FatturaPA file's state.
CREDIT_REASONS = portal.CREDIT_REASONS
SETTLEMENTS = portal.SETTLEMENTS
EINVOICE_STATES = {"pending": N_("Made, not yet sent"), "handed_over": N_("Sent, awaiting SDI"),
                   "delivered": N_("Delivered"),
                   "not_delivered": N_("Not delivered: in the customer's tax drawer"),
                   "rejected": N_("Rejected by SDI"), "unreadable": N_("Receipt unreadable")}
EINVOICE_BADGES = {"pending": "", "handed_over": "accent", "delivered": "ok",
                   "not_delivered": "warn", "rejected": "danger", "unreadable": "danger"}
CUSTOMER_KINDS = {"business": N_("Business"), "consumer": N_("Consumer")}
EFFECTIVE = {"period_end": N_("at period end"), "now": N_("now, with credit")}


def country_name(tr: Translator, code: str) -> str:
    """"Germania" for DE, in the agent's language; the code itself if Babel has no name."""
    name = Locale.parse(tr.babel_locale).territories.get(code)
    return f"{name} ({code})" if isinstance(name, str) else code


def plan_name(tr: Translator, config: Configuration) -> str:
    """Product and tier: "Marketing Plus"."""
    return portal.plan_name(tr, config)


def plan_details(tr: Translator, config: Configuration) -> str:
    """Contacts, seats, add-ons and interval: "5.000 contatti · 3 postazioni utente · Mensile"."""
    parts = []
    if config.contacts is not None:
        parts.append(portal.contacts_text(tr, config.contacts))
    parts.append(portal.seats_text(tr, config.seats))
    parts.extend(portal.named(tr, portal.ADDONS, code) for code in config.addons)
    parts.append(portal.named(tr, portal.INTERVALS, config.interval))
    return " · ".join(parts)


def line_label(tr: Translator, catalog: Catalog, config: Configuration, line: Line) -> str:
    """What a price line of `config` pays for."""
    return portal.describe_key(tr, catalog, config, line.key)


def change_line_label(tr: Translator, catalog: Catalog, change: Change, line: Line) -> str:
    """A line of a change applied now: unused time credited, or the new plan charged."""
    return portal.describe_change_line(tr, catalog, line, change.current, change.target,
                                       change.remaining_days, change.period.days,
                                       change.new_anchor is not None)


def reason_label(tr: Translator, reason: str) -> str:
    """A request's reason: the billing page sends a code ("tier_lower"), email and the API
    free text."""
    if not reason:
        return "—"
    return tr.gettext(REASONS[reason]) if reason in REASONS else reason


def feature_label(tr: Translator, code: str) -> str:
    return portal.named(tr, portal.FEATURES, code)


def when(tr: Translator, instant: datetime, timezone: str = "UTC") -> str:
    """"Nov 26, 2026, 9:02 PM" / "26 nov 2026, 21:02" in `timezone`."""
    zone = ZoneInfo(timezone)
    local = instant.astimezone(zone)
    return (f"{format_date(local, 'medium', locale=tr.babel_locale)}, "
            f"{format_time(local, 'short', locale=tr.babel_locale)}")


MONEY_KEYS = ("total", "amount", "amount_paid")
# Audit entries told as a sentence rather than their code; the others show code and summary.
AUDIT_SENTENCES = {
    "invoice.refund_failed": N_("The refund of %(amount)s on invoice %(invoice)s failed: "
                                "the money was not returned and the invoice stays paid."),
}


EINVOICE_SKIPPED = N_("No FatturaPA file was made for %(document)s: %(reason)s.")
SKIP_REASONS = {NO_DETAILS: N_("the account has no billing details"),
                UNTAXED: N_("the document was issued without tax")}


def audit_sentence(tr: Translator, entry: AuditEntry, currency: str) -> str:
    """What an audit entry did, in words ("" when it has no sentence of its own)."""
    after = entry.after or {}
    if entry.action == "einvoice.skipped" and after.get("reason") in SKIP_REASONS:
        return tr.gettext(EINVOICE_SKIPPED) % {
            "document": after.get("document") or "—",
            "reason": tr.gettext(SKIP_REASONS[after["reason"]])}
    amount, number = after.get("amount"), after.get("invoice")
    if entry.action not in AUDIT_SENTENCES or not isinstance(amount, int) or not number:
        return ""
    return tr.gettext(AUDIT_SENTENCES[entry.action]) % {
        "amount": tr.money_minor(amount, currency), "invoice": number}


def audit_summary(tr: Translator, entry: AuditEntry, currency: str) -> str:
    """One line saying what an audit entry changed: the plan, an invoice, an amount…"""
    after = entry.after or {}
    config = after.get("configuration")
    if isinstance(config, dict):
        try:
            plan = config_from_json(config, "configuration")
        except InvalidField:
            return ""
        text = f"{plan_name(tr, plan)} · {plan_details(tr, plan)}"
        pending = after.get("pending")
        if isinstance(pending, dict) and "scheduled" in entry.action:
            with suppress(InvalidField):
                later = config_from_json(pending, "pending")
                text = tr.gettext("next period: %(plan)s") % {
                    "plan": f"{plan_name(tr, later)} · {plan_details(tr, later)}"}
        return text
    parts = []
    for key, value in after.items():
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            continue
        if key in MONEY_KEYS and isinstance(value, int):
            value = tr.money_minor(value, currency)
        parts.append(f"{key}: {value}")
    return " · ".join(parts)
