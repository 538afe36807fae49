"""Who may open the console: support agents. A signed-out visitor goes to the sign-in page;
a customer who is signed in gets a clear 403 page in their language, never a redirect loop
or a stack trace."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from canone.web import auth
from canone.web.auth import SignedIn
from canone.web.templating import PageError, translator_of


def _refuse_customers(request: Request) -> None:
    signed_in = auth.load_signed_in(request)
    if signed_in is None or signed_in.user is None:
        return
    auth.signed_in_user(request)  # their language and their name in the top bar
    tr = translator_of(request)
    raise PageError(403, tr.gettext("The support console is for support staff"),
                    tr.gettext("You are signed in as a customer of canone. Your plan and "
                               "your requests are on your Billing & Upgrade page."),
                    back_url="/billing", back_label=tr.gettext("Go to Billing & Upgrade"))


def staff_page(request: Request) -> SignedIn:
    """Dependency of console pages: the signed-in support agent."""
    _refuse_customers(request)
    return auth.signed_in_staff(request)


async def staff_posting(request: Request,
                        submitted: str = Depends(auth.submitted_csrf)) -> SignedIn:
    """Dependency of console forms: the signed-in support agent, with a valid CSRF token."""
    await run_in_threadpool(_refuse_customers, request)
    return await auth.posting_staff(request, submitted)
