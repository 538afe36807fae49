"""Names people read for the catalog's codes (products, tiers, add-ons, features), change
reasons and statuses, and the descriptions of price lines, in the page's language.

The billing core writes English line descriptions for invoices and the API; the pages
describe lines again from their keys so that an Italian page reads Italian throughout.
"""

from __future__ import annotations

from canone.billing.catalog import Catalog
from canone.billing.configuration import Configuration
from canone.billing.pricing import Line
from canone.services.payment_methods import is_sepa
from canone.services.ports import StoredCard
from canone.web.i18n import N_, Translator

PRODUCTS = {"marketing": N_("Marketing"), "sales": N_("Sales"),
            "bundle": N_("Marketing + Sales")}
TIERS = {"starter": N_("Starter"), "plus": N_("Plus"), "pro": N_("Pro"),
         "enterprise": N_("Enterprise")}
ADDONS = {"sms": N_("SMS"), "custom_reporting": N_("Custom Reporting"),
          "transactional_email": N_("Transactional Email"), "dedicated_ip": N_("Dedicated IP")}
ADDON_BLURBS = {
    "sms": N_("Send text messages from your automations."),
    "custom_reporting": N_("Build your own reports and dashboards."),
    "transactional_email": N_("Receipts, password resets and other one-to-one emails."),
    "dedicated_ip": N_("Send from an IP address that only you use."),
}
FEATURES = {
    "email_marketing": N_("Email marketing"),
    "marketing_automation": N_("Marketing automation"),
    "site_tracking": N_("Site tracking"),
    "forms": N_("Forms"),
    "landing_pages": N_("Landing pages"),
    "lead_scoring": N_("Lead scoring"),
    "site_messages": N_("Site messages"),
    "conditional_automations": N_("Conditional automations"),
    "split_automations": N_("Split automations"),
    "predictive_sending": N_("Predictive sending"),
    "attribution_reporting": N_("Attribution reporting"),
    "conditional_content": N_("Conditional content"),
    "custom_objects": N_("Custom objects"),
    "sso": N_("Single sign-on (SSO)"),
    "custom_mail_domain": N_("Custom mail server domain"),
    "uptime_sla": N_("Uptime SLA"),
    "dedicated_account_team": N_("Dedicated account team"),
    "sandbox_accounts": N_("Sandbox accounts"),
    "deals_pipelines": N_("Deals and pipelines"),
    "sales_tasks": N_("Sales tasks"),
    "contact_scoring": N_("Contact and lead scoring"),
    "sales_automation": N_("Sales automation"),
    "win_probability": N_("Win probability"),
    "sales_reporting": N_("Sales reporting"),
    **ADDONS,
}
INTERVALS = {"month": N_("Monthly"), "year": N_("Annual")}
PER_INTERVAL = {"month": N_("per month"), "year": N_("per year")}
REASONS = {
    "tier_lower": N_("Move to a lower tier"),
    "product_change": N_("Change or unbundle the product"),
    "addon_removed": N_("Remove an add-on"),
    "interval_shorter": N_("Switch from annual to monthly billing"),
    "currency_change": N_("Change the currency"),
    "custom_price": N_("A plan with a custom price"),
    "other": N_("Something else"),
}
REQUEST_STATUSES = {"open": N_("Open"), "in_progress": N_("In progress"),
                    "completed": N_("Completed"), "declined": N_("Declined"),
                    "withdrawn": N_("Withdrawn")}
INVOICE_KINDS = {"signup": N_("First period"), "upgrade": N_("Plan change"),
                 "renewal": N_("Renewal"), "request": N_("Change by support")}
INVOICE_STATUSES = {"paid": N_("Paid"), "open": N_("Unpaid"), "refunded": N_("Refunded"),
                    "partially_refunded": N_("Partially refunded"),
                    "disputed": N_("Disputed")}
# SPEC §8: why a credit note was issued, and where its money went.
CREDIT_REASONS = {"unused_time": N_("Unused time"), "superseded_payment": N_("Superseded payment"),
                  "refund": N_("Refund")}
SETTLEMENTS = {"balance": N_("Credited to the balance"), "card": N_("Refunded to the card")}


def named(tr: Translator, table: dict[str, str], code: str) -> str:
    return tr.gettext(table[code]) if code in table else code


def plan_name(tr: Translator, config: Configuration) -> str:
    return f"{named(tr, PRODUCTS, config.product)} {named(tr, TIERS, config.tier)}"


def contacts_text(tr: Translator, contacts: int) -> str:
    return tr.ngettext("%(n)s contact", "%(n)s contacts", contacts) % {"n": tr.number(contacts)}


def seats_text(tr: Translator, seats: int) -> str:
    return tr.ngettext("%(n)s user seat", "%(n)s user seats", seats) % {"n": seats}


def describe_config(tr: Translator, catalog: Catalog, config: Configuration) -> str:
    """"Marketing Plus · 2,500 contacts · 3 user seats · SMS · Annual"."""
    parts = [plan_name(tr, config)]
    if config.contacts is not None:
        parts.append(contacts_text(tr, config.contacts))
    parts.append(seats_text(tr, config.seats))
    parts.extend(named(tr, ADDONS, code) for code in config.addons)
    parts.append(named(tr, INTERVALS, config.interval))
    return " · ".join(parts)


def describe_key(tr: Translator, catalog: Catalog, config: Configuration, key: str) -> str:
    """What a price line of `config` pays for, from its key."""
    if key == "base" and config.contacts is not None:
        return f"{plan_name(tr, config)}, {contacts_text(tr, config.contacts)}"
    if key == "seats":
        plan = catalog.plan(config.product, config.tier)
        extra = config.seats - plan.seats_included
        if plan.seats_included == 0:
            return seats_text(tr, extra)
        return tr.ngettext("%(n)s extra user seat", "%(n)s extra user seats", extra) % {
            "n": extra}
    if key.startswith("addon:"):
        return tr.gettext("%(name)s add-on") % {"name": named(tr, ADDONS, key[6:])}
    return plan_name(tr, config)


def describe_change_line(tr: Translator, catalog: Catalog, line: Line, before: Configuration,
                         after: Configuration, remaining: int, days: int,
                         full_period: bool) -> str:
    """A proration line: a credit for unused time of `before`, or a charge for `after`."""
    if line.amount < 0:
        return tr.gettext("Unused time on %(what)s (%(r)s of %(n)s days)") % {
            "what": describe_key(tr, catalog, before, line.key), "r": remaining, "n": days}
    what = describe_key(tr, catalog, after, line.key)
    if full_period:
        return tr.gettext("%(what)s, first year") % {"what": what}
    return tr.gettext("Remaining time on %(what)s (%(r)s of %(n)s days)") % {
        "what": what, "r": remaining, "n": days}


def payment_method_name(tr: Translator, card: StoredCard) -> str:
    """The card or SEPA bank account on file as a person recognises it, no number (the
    customer's page and the console: a bank account's stored brand is "sepa_debit")."""
    name = tr.gettext("SEPA Direct Debit") if is_sepa(card) else card.brand.capitalize()
    return f"{name} •••• {card.last4}"
