"""The words emails share, in English and Italian: amounts, numbers and dates formatted for
the recipient's language (Babel), the names of plans, add-ons and request reasons, and the
closing lines that name the account and plan and link to the Billing & Upgrade page.

The web pages have their own gettext catalogs; emails are rendered by the outbox worker,
which does not load them, so the few names an email needs are kept here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LANGUAGES = ("en", "it")
BABEL_LOCALES = {"en": "en_US", "it": "it_IT"}


@dataclass(frozen=True)
class Message:
    """An email's own news: its subject and paragraphs (the closing lines are added)."""

    subject: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class EmailContext:
    """What every email names besides its own news: the account, its plan (a CONFIG, as the
    API writes it) and the address of the Billing & Upgrade page."""

    account_name: str | None = None
    plan: Mapping[str, Any] | None = None
    billing_url: str = "http://127.0.0.1:8000/billing"


class Format:
    """Formatting in one language; `billing_url` is the link emails point to."""

    def __init__(self, language: str, billing_url: str = EmailContext.billing_url) -> None:
        self.language = language if language in LANGUAGES else "en"
        self.babel = BABEL_LOCALES[self.language]
        self.billing_url = billing_url

    def money(self, minor: int, currency: str) -> str:
        return format_currency(Decimal(minor) / 100, currency, locale=self.babel)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.babel)

    def day(self, iso: str) -> str:
        """"May 3, 2026" · "3 maggio 2026"."""
        return format_date(date.fromisoformat(iso), format="long", locale=self.babel)

    def it(self) -> bool:
        return self.language == "it"

    def pick(self, en: str, it: str) -> str:
        return it if self.it() else en


def share(used: int, limit: int) -> int:
    """The percentage of `limit` used, to the nearest whole; never 100 below the limit."""
    percent = int((Decimal(used) * 100 / limit).quantize(Decimal(1), ROUND_HALF_UP))
    return min(percent, 99) if used < limit else percent


# -- names ----------------------------------------------------------------------------------

_PRODUCTS = {"en": {"marketing": "Marketing", "sales": "Sales", "bundle": "Marketing + Sales"},
             "it": {"marketing": "Marketing", "sales": "Sales", "bundle": "Marketing e Sales"}}
_ADDONS = {
    "en": {"sms": "SMS", "custom_reporting": "Custom Reporting",
           "transactional_email": "Transactional Email", "dedicated_ip": "Dedicated IP"},
    "it": {"sms": "SMS", "custom_reporting": "Report personalizzati",
           "transactional_email": "Email transazionali", "dedicated_ip": "IP dedicato"},
}
_INTERVALS = {"en": {"month": "monthly", "year": "yearly"},
              "it": {"month": "mensile", "year": "annuale"}}
# The reasons a request can give: the codes of the "Request account change" form and the
# reason of a request made by email (`inbound_requests.REASON`); others are printed as given.
_REASONS = {
    "en": {"tier_lower": "Move to a lower tier", "product_change": "Change or unbundle the "
           "product", "addon_removed": "Remove an add-on",
           "interval_shorter": "Switch from annual to monthly billing",
           "currency_change": "Change the currency", "custom_price": "A plan with a custom price",
           "other": "Something else", "Email to support": "Email to support"},
    "it": {"tier_lower": "Passare a un livello inferiore",
           "product_change": "Cambiare o disaggregare il prodotto",
           "addon_removed": "Rimuovere un componente aggiuntivo",
           "interval_shorter": "Passare dalla fatturazione annuale a quella mensile",
           "currency_change": "Cambiare la valuta",
           "custom_price": "Un piano con prezzo personalizzato", "other": "Altro",
           "Email to support": "Email all'assistenza"},
}


def plan_name(f: Format, config: Mapping[str, Any]) -> str:
    """"Marketing Plus"."""
    product = str(config["product"])
    name = _PRODUCTS[f.language].get(product, product.replace("_", " ").capitalize())
    return f"{name} {str(config['tier']).capitalize()}"


def describe_config(f: Format, config: Mapping[str, Any]) -> str:
    """"Marketing Pro, 5,000 contacts, 3 user seats, yearly, add-ons: SMS"."""
    words = [plan_name(f, config)]
    if config.get("contacts") is not None:
        count = f.number(int(config["contacts"]))
        words.append(f.pick(f"{count} contacts", f"{count} contatti"))
    seats = int(config.get("seats", 1))
    words.append(f.pick("1 user seat" if seats == 1 else f"{seats} user seats",
                        "1 postazione utente" if seats == 1 else f"{seats} postazioni utente"))
    interval = str(config.get("interval", ""))
    words.append(_INTERVALS[f.language].get(interval, interval))
    addons = [_ADDONS[f.language].get(str(a), str(a)) for a in config.get("addons") or []]
    if addons:
        words.append(f.pick("add-ons: ", "componenti aggiuntivi: ") + ", ".join(addons))
    return ", ".join(words)


def reason_text(f: Format, reason: str) -> str:
    return _REASONS[f.language].get(reason, reason)


# -- the closing lines of every email -------------------------------------------------------


def closing(f: Format, context: EmailContext) -> str:
    """"Account: Ada's Shop · plan: Marketing Plus, …" and the link to the billing page."""
    parts = []
    if context.account_name:
        parts.append(f.pick("Account: ", "Account: ") + context.account_name)
    if context.plan:
        parts.append(f.pick("plan: ", "piano: ") + describe_config(f, context.plan))
    page = f.pick("Billing & Upgrade: ", "Fatturazione e upgrade: ") + context.billing_url
    return "\n".join([" · ".join(parts), page] if parts else [page])


SIGNATURE = {"en": "— canone billing", "it": "— Fatturazione canone"}
