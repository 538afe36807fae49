"""The sandbox network's test cards (SPEC §7 "Operations"): how each number behaves, and the
checks a card must pass to be stored."""

from __future__ import annotations

from datetime import UTC

from canone.services.ports import DECLINED, INSUFFICIENT_FUNDS, SUCCEEDED, Card, CardRejected, Clock

# How a test card behaves when charged (kept instead of its number).
_BEHAVIOUR_BY_NUMBER = {
    "4000000000000002": DECLINED,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000000119": "timeout",
}
_MAX_YEARS_AHEAD = 20  # networks refuse expiry years this far out: almost surely a typo


def behaviour_of(number: str) -> str:
    """How the card of `number` behaves when charged: what the network keeps of it."""
    return _BEHAVIOUR_BY_NUMBER.get(number, SUCCEEDED)


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if "51" <= number[:2] <= "55" or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    return "unknown"


def check_card(number: str, card: Card, clock: Clock) -> None:
    """Refuse (`CardRejected`, naming the field) a card the network would not take; `number`
    is its digits alone."""
    if not number.isdigit() or not number.isascii():
        raise CardRejected("number", "The card number may contain only digits.")
    if not 13 <= len(number) <= 19:
        raise CardRejected("number", "The card number must have 13 to 19 digits.")
    if not luhn_valid(number):
        raise CardRejected("number", "The card number is not valid.")
    if not 1 <= card.exp_month <= 12:
        raise CardRejected("exp_month", "The expiry month must be between 1 and 12.")
    today = clock.now().astimezone(UTC).date()
    if card.exp_year < today.year:
        raise CardRejected("exp_year", "The card has expired.")
    if card.exp_year > today.year + _MAX_YEARS_AHEAD:
        raise CardRejected("exp_year", "The expiry year is not valid.")
    if card.exp_year == today.year and card.exp_month < today.month:
        raise CardRejected("exp_month", "The card has expired.")
    if not (card.cvc.isascii() and card.cvc.isdigit() and 3 <= len(card.cvc) <= 4):
        raise CardRejected("cvc", "The security code must have 3 or 4 digits.")
