"""The console in Italian: every string of its code and templates has a translation, and
the pages read Italian with Italian amounts and dates."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

import canone
from canone.services.context import Services

from .conftest import ask, customer, plan, sign_in

SRC = Path(canone.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
TEMPLATE_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                    "trim_blocks": "true", "lstrip_blocks": "true"}


def console_messages() -> set[str]:
    files = [*sorted((SRC / "web/console").glob("*.py")),
             *sorted((SRC / "web/templates/console").glob("*.html"))]
    found: set[str] = set()
    for path in files:
        html = path.suffix == ".html"
        for _line, message, _comments, _context in extract_from_file(
                "jinja2.ext:babel_extract" if html else "python", path, keywords=KEYWORDS,
                options=TEMPLATE_OPTIONS if html else {}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_console_string_has_an_italian_translation() -> None:
    messages = console_messages()
    assert len(messages) > 100
    with (SRC / "locales/it/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po, locale="it")
    untranslated = []
    for msgid in sorted(messages):
        entry = catalog.get(msgid)
        strings = () if entry is None else (
            entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not all(strings):
            untranslated.append(msgid)
    assert untranslated == []


def test_every_console_string_is_in_the_english_catalog() -> None:
    with (SRC / "locales/en/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po, locale="en")
    assert sorted(m for m in console_messages() if catalog.get(m) is None) == []


def test_the_request_page_in_italian(staff: TestClient, svc: Services) -> None:
    ada = customer(svc, plan(tier="pro", currency="EUR"), name="Studio Alpina", locale="it")
    request = ask(svc, ada, plan(tier="plus", currency="EUR"))
    page = staff.get(f"/console/requests/{request.id}?lang=it")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="it">' in text
    assert "Richiesta di modifica da Studio Alpina" in text
    assert "Applica subito con accredito" in text and "Applica a fine periodo" in text
    assert "79,00\xa0€" in text and "15,00\xa0€" in text  # Babel's Italian amounts
    assert "16 aprile 2026" in text
    # The switch sticks: the next page is Italian without ?lang=.
    assert "Richieste di modifica" in staff.get("/console").text


def test_the_403_page_in_the_customers_language(client: TestClient, svc: Services) -> None:
    ada = customer(svc, plan(currency="EUR"), locale="it")
    sign_in(client, ada.email)
    page = client.get("/console")
    assert page.status_code == 403
    assert "La console di assistenza è riservata al personale di assistenza" in page.text


def test_both_catalogs_read_without_a_problem_and_name_each_message_once() -> None:
    """A merge can leave a msgid without its msgstr or twice; babel then only logs a warning
    at start and drops the entry, so the page falls back to English without a word."""
    for locale in ("en", "it"):
        path = SRC / f"locales/{locale}/LC_MESSAGES/messages.po"
        with path.open("rb") as po:
            read_po(po, locale=locale, abort_invalid=True)  # raises on a broken entry
        ids = [line for line in path.read_text().splitlines()
               if line.startswith("msgid ") and line != 'msgid ""']
        assert sorted({i for i in ids if ids.count(i) > 1}) == [], locale
