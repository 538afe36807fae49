"""The rules for a new password, after NIST SP 800-63B (section 3.1.1.2): long enough, not
only blanks, not one of the passwords attackers try first; no composition rules (no
"one digit and one symbol"), which make passwords harder to remember, not to guess.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from canone.billing.errors import InvalidField

SHORTEST = 8
LONGEST = 1024  # far above what people type; bounds the argon2 input
COMMON_LIST = "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    """The list shipped in canone/data, lower-cased."""
    text = resources.files("canone.data").joinpath(COMMON_LIST).read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check_new_password(password: str, field: str) -> None:
    """Raise InvalidField naming `field` unless `password` may be set."""
    if len(password) < SHORTEST:
        raise InvalidField(field, f"must have at least {SHORTEST} characters")
    if len(password) > LONGEST:
        raise InvalidField(field, f"must have at most {LONGEST} characters")
    if not password.strip():
        raise InvalidField(field, "must not be only spaces")
    if password.lower() in common_passwords() or len(set(password)) == 1:
        raise InvalidField(field, "is too common and easy to guess (it is on the list of "
                           "passwords attackers try first); choose another, e.g. a phrase "
                           "of a few words")
