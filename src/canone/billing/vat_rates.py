"""EU standard VAT rates as data with `valid_from` dates (SPEC §8).

The table lives in `canone/data/vat_rates.toml`; `default_vat_rates` reads it once. A rate
is looked up for a country on a date: the entry with the latest `valid_from` not after it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from canone.billing.data_files import packaged_text, parse_toml
from canone.billing.errors import DataFileError, InvalidField


@dataclass(frozen=True, slots=True)
class RateChange:
    valid_from: date
    rate: Decimal  # percent, e.g. Decimal("25.5")


@dataclass(frozen=True)
class VatRates:
    """Each EU member state's standard rate changes, oldest first."""

    changes: Mapping[str, tuple[RateChange, ...]]

    @property
    def countries(self) -> frozenset[str]:
        """The EU member states (ISO 3166 alpha-2; Greece is GR)."""
        return frozenset(self.changes)

    def standard_rate(self, country: str, on: date) -> Decimal:
        changes = self.changes.get(country)
        if changes is None:
            raise InvalidField("country", f"{country!r} is not an EU member state")
        index = bisect_right([change.valid_from for change in changes], on)
        if index == 0:
            raise InvalidField("date", f"no VAT rate of {country} is known on {on.isoformat()}")
        return changes[index - 1].rate


@cache
def default_vat_rates() -> VatRates:
    return parse_vat_rates_text(packaged_text("vat_rates.toml"), "vat_rates.toml")


def parse_vat_rates_text(text: str, source: str) -> VatRates:
    """Read a rates file, collecting every problem with its place before raising."""
    table = parse_toml(text, source, DataFileError).get("rates")
    if not isinstance(table, dict) or not table:
        raise DataFileError(["rates: missing or empty table of country = [changes]"])
    problems: list[str] = []
    changes = {
        country: _changes(country, entries, problems) for country, entries in table.items()
    }
    if problems:
        raise DataFileError(problems)
    return VatRates(changes)


def _changes(country: str, entries: Any, problems: list[str]) -> tuple[RateChange, ...]:
    where = f"rates.{country}"
    if len(country) != 2 or not country.isascii() or not country.isupper():
        problems.append(f"{where}: not an ISO 3166 alpha-2 country code")
    if not isinstance(entries, list) or not entries:
        problems.append(f"{where}: must be a list of {{ valid_from = DATE, rate = \"N\" }}")
        return ()
    result: list[RateChange] = []
    for i, entry in enumerate(entries):
        change = _change(entry, f"{where}[{i}]", problems)
        if change is None:
            continue
        if result and change.valid_from <= result[-1].valid_from:
            problems.append(f"{where}[{i}].valid_from: not after the entry before it")
        result.append(change)
    return tuple(result)


def _change(entry: Any, where: str, problems: list[str]) -> RateChange | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a table {{ valid_from = DATE, rate = \"N\" }}")
        return None
    valid_from = entry.get("valid_from")
    if not isinstance(valid_from, date):
        problems.append(f"{where}.valid_from: must be a date (YYYY-MM-DD)")
    raw = entry.get("rate")
    try:
        rate = Decimal(raw) if isinstance(raw, str) else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not 0 <= rate < 100:
        problems.append(f"{where}.rate: must be a percentage as a string, e.g. \"22\"")
    if not isinstance(valid_from, date) or rate is None or not rate.is_finite():
        return None
    return RateChange(valid_from, rate)


def vat_prefix(country: str) -> str:
    """The prefix of a member state's VAT ids: its ISO code, except Greece's EL."""
    return "EL" if country == "GR" else country
