"""Languages of the web pages: gettext catalogs, and Babel's formats for money, numbers and
dates.

The catalogs are the `.po` files under `canone/locales/<lang>/LC_MESSAGES/messages.po`,
read once with Babel and compiled in memory, so no `.mo` file is ever committed or stale.
A `Translator` is one language: pages get theirs from the request (see `auth.locale_of`).
"""

from __future__ import annotations

import gettext as _gettext
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

LOCALES = ("en", "it")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
# Babel needs a territory for currency symbols: "it" alone would do, en_US gives "$".
BABEL_LOCALES = {"en": "en_US", "it": "it_IT"}
LANGUAGE_NAMES = {"en": "English", "it": "Italiano"}


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def _load(locale: str) -> _gettext.NullTranslations:
    path = catalog_path(locale)
    if not path.is_file():
        return _gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy and empty translations fall back to the msgid
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


class Translator:
    """Messages, money, numbers and dates in one language."""

    def __init__(self, locale: str, translations: _gettext.NullTranslations) -> None:
        self.locale = locale
        self.babel_locale = BABEL_LOCALES[locale]
        self._translations = translations

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def money(self, amount: Decimal | int | str, currency: str) -> str:
        """`1.234,50 €` in Italian, `$1,234.50` in English (Babel's CLDR formats)."""
        value = Decimal(amount)
        # Babel prints -0 as "-$0.00"; and -0 equals 0, so the cache would print 0 so too.
        return _money(value if value else abs(value), currency, self.babel_locale)

    def money_minor(self, minor: int, currency: str) -> str:
        return self.money(Decimal(minor) / 100, currency)

    def number(self, value: int | Decimal) -> str:
        if type(value) is int:
            return _integer(value, self.babel_locale)
        return format_decimal(value, locale=self.babel_locale)

    def percent(self, ratio: Decimal | float) -> str:
        return format_percent(ratio, locale=self.babel_locale)

    def date(self, day: date | datetime, style: str = "long") -> str:
        """`1 marzo 2026` / `March 1, 2026`; style is a Babel date format name."""
        # Babel formats a datetime's date alone: the cache keeps dates only.
        return _date(day.date() if isinstance(day, datetime) else day, style,
                     self.babel_locale)


@lru_cache(maxsize=4096)
def _money(amount: Decimal, currency: str, babel_locale: str) -> str:
    # A page shows the same few prices many times; Babel takes ~20 µs per amount.
    return format_currency(amount, currency, locale=babel_locale)


@lru_cache(maxsize=4096)
def _date(day: date, style: str, babel_locale: str) -> str:
    # Every quote shows when its price starts (~25 µs through Babel), and a page its dates.
    return format_date(day, style, locale=babel_locale)


@lru_cache(maxsize=4096)
def _integer(value: int, babel_locale: str) -> str:
    # Contact counts, formatted a dozen times a page (the slider's steps) at ~40 µs each. Only
    # ints are kept: a Decimal equal to one (-0, 5.0) may print otherwise.
    return format_decimal(value, locale=babel_locale)


@cache
def translator(locale: str) -> Translator:
    """The translator of a supported locale (English for any other)."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    return Translator(locale, _load(locale))


def load_all() -> None:
    """Read every catalog now, so a broken `.po` fails at start-up, not on a first visit."""
    for locale in LOCALES:
        translator(locale)


def supported(locale: str | None) -> str | None:
    """The supported locale `locale` names ("it", "it-IT", "it_IT"), or None."""
    if not locale:
        return None
    short = locale.replace("-", "_").split("_")[0].strip().lower()
    return short if short in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an Accept-Language header, by preference."""
    choices = []
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if supported(tag):
            choices.append((weight, supported(tag)))
    choices.sort(key=lambda choice: -choice[0])
    return choices[0][1] if choices else None
