"""Values as a FatturaPA file must write them: Latin-1 text of a bounded length, amounts
with two decimals."""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# Letters with no Latin-1 form and no accent to strip; the rest of the world's scripts
# become "?" (the file's schema allows only Basic Latin and Latin-1 Supplement).
_SPELLED = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Œ": "OE", "œ": "oe",
            "€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
            "…": "...", "•": "-", "\u00a0": " "}


# Greek (ELOT 743) and Bulgarian (the official streamlined system) letters, so that names
# from the two EU states not written in Latin letters stay readable in the file.
_GREEK = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω", (
    "a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r", "s",
    "s", "t", "y", "f", "ch", "ps", "o"), strict=True))
_BULGARIAN = dict(zip("абвгдежзийклмнопрстуфхцчшщъьюя", (
    "a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
    "t", "u", "f", "h", "ts", "ch", "sh", "sht", "a", "y", "yu", "ya"), strict=True))
for _letters in (_GREEK, _BULGARIAN):
    _SPELLED.update(_letters)
    _SPELLED.update({k.upper(): v.capitalize() for k, v in _letters.items() if k != "ς"})


def latin(text: str, most: int) -> str:
    """`text` in Latin-1, whitespace collapsed, cut to `most` characters."""
    collapsed = " ".join(text.split())
    # Most text is printable ASCII, which the loop below would keep as it is.
    if collapsed.isascii() and collapsed.isprintable():
        return collapsed[:most].strip() or "-"
    out: list[str] = []
    for char in unicodedata.normalize("NFC", collapsed):
        if unicodedata.category(char) in ("Cc", "Cf"):  # controls: no place in XML text
            continue
        if ord(char) < 256:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[0]  # ή → η, ő → o
        if ord(base) < 256:
            out.append(base)
        else:
            out.append(_SPELLED.get(char) or _SPELLED.get(base) or "?")
    return "".join(out)[:most].strip() or "-"


def amount(value: Decimal) -> str:
    """An amount with exactly two decimals (`Amount2DecimalType`)."""
    text = f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"
    return "0.00" if text == "-0.00" else text


def rate(value: Decimal) -> str:
    """A percentage (`RateType`: up to 3 digits, two decimals)."""
    return amount(value)


def number(value: Decimal) -> str:
    """A number with two to eight decimals (`Amount8DecimalType`), e.g. an exchange rate."""
    exponent = value.as_tuple().exponent
    places = min(8, max(2, -exponent if isinstance(exponent, int) else 2))
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):.{places}f}"
