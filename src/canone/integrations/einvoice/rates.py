"""A fixed table of ECB reference rates: for tests, the demo, or rates entered by hand."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

DEMO_RATES = "ecb-rates-demo.csv"


class UnknownRate(LookupError):
    pass


class FixedExchangeRates:
    """`ExchangeRates` from a table {currency: {date: units per euro}}. A day without a
    rate (a weekend, a TARGET holiday) takes the latest rate published before it."""

    def __init__(self, table: Mapping[str, Mapping[date, Decimal]]) -> None:
        self.table = {currency: dict(sorted(rates.items())) for currency, rates in table.items()}

    def eur_rate(self, currency: str, on: date) -> Decimal:
        if currency == "EUR":
            return Decimal(1)
        published = [rate for day, rate in self.table.get(currency, {}).items() if day <= on]
        if not published:
            raise UnknownRate(f"no EUR/{currency} reference rate on or before {on.isoformat()}")
        return published[-1]


def parse_rates(text: str, where: str) -> FixedExchangeRates:
    """A CSV of ECB reference rates: a header `date,currency,rate`, then one row per day and
    currency, e.g. `2026-03-13,USD,1.0812` (units of the currency per euro)."""
    table: dict[str, dict[date, Decimal]] = {}
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            day, currency = date.fromisoformat(row["date"]), row["currency"].strip().upper()
            rate = Decimal(row["rate"])
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise ValueError(f"{where}, line {number}: expected date,currency,rate") from None
        if rate <= 0:
            raise ValueError(f"{where}, line {number}: a rate is above zero")
        table.setdefault(currency, {})[day] = rate
    return FixedExchangeRates(table)


def load_rates(path: str | None) -> FixedExchangeRates:
    """The rates of the CSV file at `path`; None: the demo table shipped with canone."""
    if path is None:
        text = resources.files("canone.data").joinpath(DEMO_RATES).read_text("utf-8")
        return parse_rates(text, DEMO_RATES)
    return parse_rates(Path(path).read_text("utf-8"), path)
