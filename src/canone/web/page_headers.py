"""Security headers of the pages (portal, console, sign-in) and their static files; the
JSON API sets its own (`problems.API_SECURITY_HEADERS`).

The pages use only their own stylesheets and script (/static), no inline script or style
and nothing from another site, so the policy allows 'self' alone; the live quote is a
fetch to this site; forms post to this site. No page may be framed (clickjacking).
"""

from __future__ import annotations

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
PAGE_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


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
