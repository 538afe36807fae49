"""The gettext catalogs are complete: every string the web pages use (templates and the
web package's Python) has an Italian translation, and the catalogs load."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from canone.web import i18n

WEB = Path(i18n.__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with i18n.catalog_path(locale).open("rb") as po:
        return read_po(po, locale=locale)


def _used() -> dict[str, list[str]]:
    """msgid → where it is used (plural entries by their singular)."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(WEB), METHODS, OPTIONS):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"web/{filename}:{lineno}")
    return found


def test_every_italian_msgid_has_a_translation() -> None:
    empty = []
    for message in _catalog("it"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s.strip() for s in strings) or message.fuzzy:
            empty.append(message.id)
    assert not empty, f"{len(empty)} Italian msgstr empty or fuzzy: {empty[:20]}"


def test_every_string_of_the_pages_is_in_the_catalogs() -> None:
    used = _used()
    assert len(used) > 150  # the extraction ran over templates and code
    for locale in ("it", "en"):
        catalog = _catalog(locale)
        missing = {msgid: where for msgid, where in used.items() if catalog.get(msgid) is None}
        assert not missing, (
            f"{len(missing)} msgids missing from {locale}/messages.po, e.g. "
            + "; ".join(f"{m!r} ({w[0]})" for m, w in list(missing.items())[:10]))


def test_italian_plurals_and_formats() -> None:
    it = i18n.translator("it")
    assert it.gettext("Billing & Upgrade") == "Fatturazione e upgrade"
    assert it.ngettext("%(n)s contact", "%(n)s contacts", 1) % {"n": 1} == "1 contatto"
    assert it.ngettext("%(n)s contact", "%(n)s contacts", 5) % {"n": 5} == "5 contatti"
    assert it.money("1234.50", "EUR") == "1.234,50\u00a0€"
    assert i18n.translator("en").money("1234.50", "USD") == "$1,234.50"
    # Nothing is never negative, whichever zero comes first (the formats are cached).
    assert [it.money(zero, "EUR") for zero in ("-0.00", "0", "-0")] == ["0,00\u00a0€"] * 3
    assert i18n.translator("en").money_minor(0, "USD") == "$0.00"
    assert i18n.translator("xx").locale == "en"
    assert i18n.from_accept_language("de-DE,it;q=0.8,en;q=0.5") == "it"
