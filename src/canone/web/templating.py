"""Server-rendered HTML: the Jinja2 environment (gettext, money and date filters), `render`,
and `PageRoute`, the route class of HTML routers that turns errors into pages.

Every HTML router (portal, console) is `APIRouter(route_class=PageRoute)`: a signed-out
visitor is redirected to the sign-in page, and any other error becomes a page in the
visitor's language, never a traceback or a JSON problem.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.exceptions import HTTPException

from canone.services.errors import Forbidden, NotFound
from canone.web import i18n
from canone.web.i18n import Translator
from canone.web.problems import status_of

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "canone_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600

log = logging.getLogger("canone.web")


def _translator_in(ctx: Context) -> Translator:
    found = ctx.get("i18n")
    return found if isinstance(found, Translator) else i18n.translator(i18n.DEFAULT_LOCALE)


# Jinja's newstyle gettext, in one call: `_("Hello %(name)s", name=x)` escapes and formats in
# one step. Jinja's own wrappers (`install_gettext_callables(newstyle=True)`) take three
# context calls per message, and a page shows over a hundred messages. Positional-only, as
# Jinja's: a message's variables may be called `message` or `n`.
@pass_context
def _gettext(ctx: Context, message: str, /, **variables: Any) -> str:
    tr = _translator_in(ctx)
    autoescape = ctx.eval_ctx.autoescape
    if not variables and autoescape:  # most of a page's ~130 messages: the same every time
        return _plain(tr, message)
    found = tr.gettext(message)
    # Always a format string, even without variables: "%%" is "%" either way.
    return (Markup(found) if autoescape else found) % variables


# Messages without variables as HTML, by (language, message): one dict look-up instead of
# a catalog's and a Markup's formatting (~2 us each, and a page shows over a hundred).
# Nearly all are the templates' own strings; a few pages pass a stored code or text
# through `_` (a status, a problem found in a file), hence the bound.
_PLAIN: dict[tuple[str, str], Markup] = {}
_PLAIN_KEPT = 4096


def _plain(tr: Translator, message: str) -> Markup:
    key = (tr.locale, message)
    found = _PLAIN.get(key)
    if found is None:
        found = Markup(tr.gettext(message)) % {}
        if len(_PLAIN) < _PLAIN_KEPT:
            _PLAIN[key] = found
    return found


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int, /, **variables: Any
              ) -> str:
    variables.setdefault("num", n)
    found = _translator_in(ctx).ngettext(singular, plural, n)
    return (Markup(found) if ctx.eval_ctx.autoescape else found) % variables


@pass_context
def _money(ctx: Context, amount: Decimal | int | str | None, currency: str) -> str:
    return "" if amount is None else _translator_in(ctx).money(amount, currency)


@pass_context
def _money_minor(ctx: Context, minor: int, currency: str) -> str:
    return _translator_in(ctx).money_minor(minor, currency)


@pass_context
def _date(ctx: Context, day: date | datetime | None, style: str = "long") -> str:
    return "" if day is None else _translator_in(ctx).date(day, style)


@pass_context
def _number(ctx: Context, value: int | Decimal | None) -> str:
    return "" if value is None else _translator_in(ctx).number(value)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package and change with a new release, never under a
        # running server: no stat of each template file at every render (a live quote
        # renders four).
        auto_reload=False,
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
    env.filters.update(money=_money, money_minor=_money_minor, date=_date, number=_number)
    env.globals.update(LANGUAGES=i18n.LANGUAGE_NAMES)
    return env


i18n.load_all()
templates = Jinja2Templates(env=_environment())


def compile_all() -> None:
    """Compile every template now, as a server starts, not on each one's first visit."""
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)


def locale_of(request: Request, default: str | None = None) -> str:
    """?lang= (a switch), then the language cookie, then `default` (the account's), then
    the browser's Accept-Language, then English."""
    return (i18n.supported(request.query_params.get("lang"))
            or i18n.supported(request.cookies.get(LANG_COOKIE))
            or i18n.supported(default)
            or i18n.from_accept_language(request.headers.get("accept-language"))
            or i18n.DEFAULT_LOCALE)


def translator_of(request: Request) -> Translator:
    """The request's translator: set by the sign-in dependency, else from the request."""
    found = getattr(request.state, "i18n", None)
    if isinstance(found, Translator):
        return found
    chosen = i18n.translator(locale_of(request))
    request.state.i18n = chosen
    return chosen


def remember_locale(request: Request, response: Response) -> None:
    """A ?lang= switch sticks: it is kept in a cookie for the next pages."""
    chosen = i18n.supported(request.query_params.get("lang"))
    if chosen and chosen != request.cookies.get(LANG_COOKIE):
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_AGE, httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    signed_in = getattr(request.state, "signed_in", None)
    ctx: dict[str, Any] = {
        "i18n": translator_of(request),
        "signed_in": signed_in,
        "csrf": signed_in.csrf if signed_in is not None else "",
        **(context or {}),
    }
    ctx["lang"] = ctx["i18n"].locale
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers.setdefault("Cache-Control", "no-store")  # pages show private data
    remember_locale(request, response)
    return response


class PageError(Exception):
    """An error shown as a page: a status, a title and a message, both already translated."""

    def __init__(self, status: int, title: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.extra = extra


class LoginRequired(Exception):
    """The visitor must sign in (again); they come back to `next_url` afterwards."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def error_page(request: Request, status: int, title: str, message: str,
               **extra: Any) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "title": title,
                                          "message": message, **extra}, status_code=status)


def forbidden_page(request: Request, exc: Forbidden) -> HTMLResponse:
    """403: what is not allowed and whom to ask (the account's primary admin)."""
    tr = translator_of(request)
    return error_page(request, status_of(exc), tr.gettext("You don't have access to this page"),
                      tr.gettext("Only the primary admin or an admin with billing permission "
                                 "can see and change billing."),
                      primary_admin=exc.primary_admin)


class PageRoute(APIRoute):
    """Routes of HTML pages: errors become pages, a missing sign-in a redirect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", 303)
            except PageError as exc:
                return error_page(request, exc.status, exc.title, exc.message, **exc.extra)
            except Forbidden as exc:
                return forbidden_page(request, exc)
            except NotFound as exc:
                tr = translator_of(request)
                return error_page(request, status_of(exc), tr.gettext("Page not found"),
                                  tr.gettext("There is nothing at this address."))
            except RequestValidationError:
                tr = translator_of(request)
                return error_page(request, 400, tr.gettext("Something is missing"),
                                  tr.gettext("The form was incomplete. Go back and try again."))
            except HTTPException as exc:
                tr = translator_of(request)
                if exc.status_code == 404:
                    return error_page(request, 404, tr.gettext("Page not found"),
                                      tr.gettext("There is nothing at this address."))
                return error_page(request, exc.status_code, tr.gettext("Not possible"),
                                  str(exc.detail))
            except Exception:
                log.exception("error on page %s", request.url.path)
                tr = translator_of(request)
                return error_page(request, 500, tr.gettext("Something went wrong"),
                                  tr.gettext("Something went wrong on our side; nothing was "
                                             "changed. Please try again."))

        return page_handler
