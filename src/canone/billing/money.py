"""Exact money: Decimal amounts in a currency, rounded half-up to the minor unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def prorate(amount: Decimal, remaining_days: int, days: int) -> Decimal:
    """round(amount · r / n), half-up to the cent.

    amount · r is exact; the division is exact to 28 digits, far more than a value of the
    form k / (100 · n) needs to be rounded on the right side of a half cent.
    """
    return round_money(amount * remaining_days / days)


def to_minor(amount: Decimal) -> int:
    """Integer minor units, as stored in the database."""
    return int(round_money(amount) * 100)


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(CENT)


_FORMATTED: dict[Decimal, str] = {}


def format_amount(amount: Decimal) -> str:
    """The wire format: a string with exactly two decimals."""
    # An amount already in cents (every line's, and their sums) is its own text: a new
    # Decimal's hash, to look it up below, costs several times its str.
    plain = str(amount)
    if plain[-3:-2] == ".":  # two digits after the point: no exponent in the text
        return "0.00" if plain == "-0.00" else plain
    # Equal amounts (1.5, 1.50) have one text, so a memo of the few amounts that recur is
    # exact; it saves the quantize and format of every line of every answer.
    text = _FORMATTED.get(amount)
    if text is None:
        rounded = round_money(amount)
        text = "0.00" if rounded == 0 else f"{rounded:.2f}"  # never "-0.00"
        if len(_FORMATTED) >= 65_536:
            _FORMATTED.clear()
        _FORMATTED[amount] = text
    return text


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    @property
    def minor(self) -> int:
        return to_minor(self.amount)

    @classmethod
    def of_minor(cls, minor: int, currency: str) -> Money:
        return cls(from_minor(minor), currency)

    def __str__(self) -> str:
        return f"{format_amount(self.amount)} {self.currency}"
