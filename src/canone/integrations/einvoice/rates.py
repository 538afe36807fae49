"""A fixed table of ECB reference rates: for tests, the demo, or rates entered by hand."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal


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
