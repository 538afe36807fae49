"""Sign-in and sign-out pages, shared by customers and support agents."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from canone.web import auth
from canone.web.auth import SignedIn
from canone.web.templating import PageRoute, render, translator_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _landing(principal: str) -> str:
    return "/console" if principal.startswith("staff:") else "/billing"


@router.get("/")
def home(request: Request) -> Response:
    signed_in = auth.load_signed_in(request)
    if signed_in is None:
        return RedirectResponse("/login", 303)
    return RedirectResponse(_landing(signed_in.session.principal), 303)


def _login_page(request: Request, next_url: str, email: str = "", error: str = "",
                status: int = 200, signed_out: bool = False) -> HTMLResponse:
    token = auth.login_csrf(request)
    response = render(request, "login.html", {"next_url": next_url, "email": email,
                                              "error": error, "signed_out": signed_out,
                                              "login_csrf": token}, status_code=status)
    auth.keep_login_csrf(request, response, token)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "", signed_out: bool = False) -> Response:
    return _login_page(request, auth.safe_next(next, ""), signed_out=signed_out)


def _too_many(request: Request, next_url: str, email: str, seconds: int) -> HTMLResponse:
    tr = translator_of(request)
    minutes = max(1, math.ceil(seconds / 60))
    response = _login_page(request, next_url, email, tr.ngettext(
        "Too many attempts to sign in. Try again in %(n)s minute.",
        "Too many attempts to sign in. Try again in %(n)s minutes.", minutes) % {"n": minutes},
        429)
    response.headers["Retry-After"] = str(seconds)
    return response


@router.post("/login")
async def login(request: Request, email: str = Form(""), password: str = Form(""),
                csrf: str = Form(""), next: str = Form("")) -> Response:
    tr = translator_of(request)
    if not auth.login_csrf_ok(request, csrf):
        return _login_page(request, next, email, tr.gettext(
            "The sign-in form expired. Please try again."), 400)
    throttle = auth.throttle_of(request)
    address = request.client.host if request.client else ""
    if wait := throttle.seconds_to_wait(email, address):
        return _too_many(request, next, email, wait)
    principal = await auth.checking_passwords(auth.check_password, auth.services_of(request),
                                              email, password)
    if principal is None:
        throttle.failed(email, address)
        return _login_page(request, next, email, tr.gettext(
            "The email or the password is not right."), 401)
    throttle.succeeded(email)
    response = RedirectResponse(auth.safe_next(next, _landing(principal)), 303)
    await run_in_threadpool(auth.start_session, request, response, principal)
    return response


@router.post("/logout")
def logout(request: Request, signed_in: SignedIn = Depends(auth.posting_any)) -> Response:
    response = RedirectResponse("/login?signed_out=1", 303)
    auth.end_session(request, response)
    return response
