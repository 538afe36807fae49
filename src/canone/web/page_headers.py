"""Security headers of the pages (portal, console, sign-in) and their static files; the
JSON API sets its own (`problems.API_SECURITY_HEADERS`).

The pages use only their own stylesheets and script (/static), no inline script or style
and nothing from another site, so the policy allows 'self' alone; the live quote is a
fetch to this site; forms post to this site. No page may be framed (clickjacking).

With Stripe (SPEC §9) the billing pages also load Stripe.js, which runs its card field and
3-D Secure challenge in frames of its own and calls Stripe's API: those pages set
`stripe_policy`, which adds exactly Stripe's origins to scripts, frames and connections
(the middleware keeps a policy a response set itself).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
               "frame-ancestors 'none'")
# The API docs pages (Swagger UI, ReDoc: their scripts served by canone, see web/app.py)
# start with an inline script, which PAGE_POLICY forbids: they may not be framed either,
# but keep their own sources.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
DOCS_POLICY = "frame-ancestors 'none'"
# Stripe.js from Stripe (docs.stripe.com/security/guide, "Content Security Policy"): the
# script and its frames from js.stripe.com, the 3-D Secure frames from hooks.stripe.com,
# the calls to api.stripe.com.
STRIPE_JS_URL = "https://js.stripe.com/v3/"
STRIPE_SCRIPTS = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_FRAMES = (*STRIPE_SCRIPTS, "https://hooks.stripe.com")
STRIPE_CONNECT = ("https://api.stripe.com",)
PAGE_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def stripe_policy(js_url: str) -> str:
    """PAGE_POLICY plus what Stripe.js loaded from `js_url` needs. A Stripe.js served from
    elsewhere (localstripe in test mode, settings.stripe_js_url) is a fake that runs in the
    page and calls its own server: that one origin for scripts, frames and connections.
    The pages frame nothing else, so frame-src names Stripe's frames alone."""
    scripts: tuple[str, ...]
    frames: tuple[str, ...]
    connect: tuple[str, ...]
    if js_url == STRIPE_JS_URL:
        scripts, frames, connect = STRIPE_SCRIPTS, STRIPE_FRAMES, STRIPE_CONNECT
    else:
        parts = urlsplit(js_url)
        scripts = frames = connect = (f"{parts.scheme}://{parts.netloc}",)
    added = {"script-src": scripts, "connect-src": connect}
    directives = []
    for directive in PAGE_POLICY.split("; "):
        directives.append(" ".join((directive, *added.get(directive.split(" ")[0], ()))))
    directives.insert(directives.index("img-src 'self'") + 1, " ".join(("frame-src", *frames)))
    return "; ".join(directives)


class PageHeaders:
    def __init__(self, app: ASGIApp, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(self.api_prefix + "/"):
            return await self.app(scope, receive, send)
        policy = DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
