"""Sign-in for people (account users and support staff): server-side sessions and CSRF.

- The session cookie holds a random token; the database keeps only its SHA-256, so a leaked
  database row cannot be replayed as a cookie. Sessions expire after `SESSION_HOURS` on the
  wall clock (never the billing test clock: moving it must not sign people out).
- Every session has a CSRF token. Each POST carries it, in the form field `csrf` or, for
  fetch, the header `X-CSRF-Token`. The sign-in form, which has no session yet, uses a
  double-submit cookie instead.
- `signed_in_user` / `signed_in_staff` are the dependencies of pages; `posting_user` /
  `posting_staff` also check the CSRF token. A missing or expired session raises
  `LoginRequired`, which `templating.PageRoute` turns into a redirect to /login.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from canone.services import accounts, sessions
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.services.errors import Forbidden
from canone.services.records import Account, Staff, User, WebSession
from canone.services.sessions import SESSION_HOURS
from canone.services.throttle import SignInThrottle
from canone.web import i18n
from canone.web.templating import LoginRequired, PageError, locale_of, translator_of

SESSION_COOKIE = "canone_session"
LOGIN_CSRF_COOKIE = "canone_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
T = TypeVar("T")


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in on this request: an account user or a support agent."""

    session: WebSession
    user: User | None = None
    account: Account | None = None
    staff: Staff | None = None

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def customer(self) -> User:
        """The account user signed in; the customers' routes (`signed_in_user`,
        `posting_user`) let no one else in, so a None here is refused, not a crash."""
        if self.user is None:
            raise Forbidden("This page is for customers.")
        return self.user

    @property
    def actor(self) -> Actor:
        if self.user is not None:
            return Actor.of_user(self.user)
        if self.staff is None:
            raise Forbidden("Nobody is signed in.")
        return Actor(STAFF, f"staff:{self.staff.email}")

    @property
    def name(self) -> str:
        person = self.user or self.staff
        return person.name if person else ""


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def _now() -> datetime:
    return datetime.now(UTC)


# -- signing in and out ------------------------------------------------------------------


# argon2 takes about 64 MiB and tens of milliseconds of CPU per check: a few at a time, in
# threads of their own, so a flood of sign-ins can take neither the memory nor the thread
# pool that every other page and API call runs on.
_PASSWORD_CHECKS = CapacityLimiter(4)


async def checking_passwords(check: Callable[..., T], *args: Any) -> T:
    """Run `check` (argon2 work) off the event loop, at most 4 at once."""
    return await to_thread.run_sync(check, *args, limiter=_PASSWORD_CHECKS)


def throttle_of(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    return throttle


def check_password(svc: Services, email: str, password: str) -> str | None:
    """The principal ("user:<id>" or "staff:<id>") these credentials sign in, or None."""
    return accounts.authenticate(svc, email, password)


def start_session(request: Request, response: Response, principal: str) -> None:
    """A new session for `principal`, its cookie set on `response`. Any session the browser
    had is ended first, so a session id never survives a sign-in (session fixation)."""
    token = sessions.start(services_of(request), principal, _now(),
                           replacing=request.cookies.get(SESSION_COOKIE))
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sessions.end(services_of(request), token)
    response.delete_cookie(SESSION_COOKIE, path="/")


def login_csrf(request: Request) -> str:
    """The sign-in form's token: the browser's cookie, or a new one (see `keep_login_csrf`)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def keep_login_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def login_csrf_ok(request: Request, submitted: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, submitted or "")


def safe_next(url: str | None, default: str) -> str:
    """Only a path on this site: never `//evil.example` or `https://…` (open redirect)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


# -- who is signed in --------------------------------------------------------------------


def load_signed_in(request: Request) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = sessions.owner(services_of(request), token, _now())
    if found is None:
        return None
    kind = found.session.principal.partition(":")[0]
    if kind == "user":
        user = found.user
        if user is None or not user.active:
            return None
        return SignedIn(found.session, user=user, account=found.account)
    if kind == "staff":
        return None if found.staff is None else SignedIn(found.session, staff=found.staff)
    return None


def _attach(request: Request, signed_in: SignedIn) -> SignedIn:
    request.state.signed_in = signed_in
    account_locale = signed_in.account.locale if signed_in.account else None
    request.state.i18n = i18n.translator(locale_of(request, account_locale))
    return signed_in


def _back_here(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def signed_in_user(request: Request) -> SignedIn:
    """Dependency: the signed-in account user; others go to the sign-in page, and support
    agents back to their console."""
    signed_in = load_signed_in(request)
    if signed_in is not None and signed_in.staff is not None:
        _attach(request, signed_in)
        tr = translator_of(request)
        raise PageError(403, tr.gettext("This page is for customers"),
                        tr.gettext("Support agents see accounts in the support console."),
                        back_url="/console", back_label=tr.gettext("Support console"))
    if signed_in is None or signed_in.user is None:
        raise LoginRequired(_back_here(request) if request.method == "GET" else "/billing")
    return _attach(request, signed_in)


def signed_in_staff(request: Request) -> SignedIn:
    """Dependency: the signed-in support agent; others go to the sign-in page."""
    signed_in = load_signed_in(request)
    if signed_in is None or signed_in.staff is None:
        raise LoginRequired(_back_here(request) if request.method == "GET" else "/console")
    return _attach(request, signed_in)


async def submitted_csrf(request: Request) -> str:
    """The CSRF token a POST carries: the X-CSRF-Token header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # Starlette caches it for the route's Form() fields
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def _check_csrf(request: Request, signed_in: SignedIn, submitted: str) -> SignedIn:
    if not submitted or not hmac.compare_digest(signed_in.csrf, submitted):
        tr = translator_of(request)
        raise PageError(403, tr.gettext("This form has expired"),
                        tr.gettext("Reload the page and try again. Nothing was changed."))
    return signed_in


def checked_user(request: Request, submitted: str) -> SignedIn:
    """`posting_user` for a route that does all its blocking work in one trip to the thread
    pool (the live quote, asked at every slider stop): call it inside that trip."""
    return _check_csrf(request, signed_in_user(request), submitted)


async def posting_user(request: Request, submitted: str = Depends(submitted_csrf)) -> SignedIn:
    """Dependency of POST routes: the signed-in user, with a valid CSRF token."""
    signed_in = await run_in_threadpool(signed_in_user, request)
    return _check_csrf(request, signed_in, submitted)


async def posting_staff(request: Request, submitted: str = Depends(submitted_csrf)) -> SignedIn:
    """Dependency of POST routes of the console: the signed-in agent, with a CSRF token."""
    signed_in = await run_in_threadpool(signed_in_staff, request)
    return _check_csrf(request, signed_in, submitted)


async def posting_any(request: Request, submitted: str = Depends(submitted_csrf)) -> SignedIn:
    """Dependency of sign-out: whoever is signed in, with a valid CSRF token."""
    signed_in = await run_in_threadpool(load_signed_in, request)
    if signed_in is None:
        raise LoginRequired("/")
    return _check_csrf(request, _attach(request, signed_in), submitted)
