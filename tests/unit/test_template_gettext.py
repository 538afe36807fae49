"""The pages' gettext and ngettext (one context call each) render exactly as Jinja's own
newstyle wrappers would: escaped, then formatted with the keywords, `%%` always a percent."""

from __future__ import annotations

import pytest
from jinja2 import Environment, pass_context
from jinja2.ext import _gettext_alias
from jinja2.runtime import Context

from canone.web import i18n, templating
from canone.web.templating import templates

SOURCES = [
    '{{ _("Cancel") }}',
    '{{ _("Hello %(name)s", name=who) }}',
    '{{ _("100%% sure") }}',
    '{{ _("%(message)s!", message=who) }}',
    '{{ ngettext("%(n)s contact", "%(n)s contacts", count, n=count|number) }}',
    '{{ ngettext("%(num)s contact", "%(num)s contacts", count) }}',
    '{% for who in ["<b>", "&"] %}{{ _("Hello %(name)s", name=who) }}{% endfor %}',
]


def _stock() -> Environment:
    """A new environment like the pages', with Jinja's own newstyle wrappers."""
    env = templating._environment()

    @pass_context
    def plain_gettext(ctx: Context, message: str) -> str:
        return ctx["i18n"].gettext(message)  # type: ignore[no-any-return]

    @pass_context
    def plain_ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
        return ctx["i18n"].ngettext(singular, plural, n)  # type: ignore[no-any-return]

    env.install_gettext_callables(plain_gettext, plain_ngettext,  # type: ignore[attr-defined]
                                  newstyle=True)
    env.globals["_"] = _gettext_alias
    return env


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("autoescape", [True, False])
def test_as_jinja_newstyle(source: str, locale: str, autoescape: bool) -> None:
    wrapped = f"{{% autoescape {str(autoescape).lower()} %}}{source}{{% endautoescape %}}"
    values = {"i18n": i18n.translator(locale), "who": "<Ada & Bo>", "count": 2500}
    ours = templates.env.from_string(wrapped).render(values)
    assert ours == _stock().from_string(wrapped).render(values)
    assert ("&lt;" in ours) == (autoescape and "who" in source)
    assert templates.env.globals["_"] is templating._gettext  # the pages' own, untouched


def test_a_message_without_variables_is_kept_per_language() -> None:
    """Kept once per language (`_plain`): asked again, in either order, each language
    still gets its own, and `%%` is a percent in each."""
    source = templates.env.from_string('{{ _("Cancel") }} {{ _("100%% sure") }}')
    shown = [source.render(i18n=i18n.translator(locale)) for locale in ("en", "it", "en", "it")]
    assert shown == ["Cancel 100% sure", "Annulla 100% sure"] * 2
    assert templating._PLAIN[("it", "Cancel")] == "Annulla"
