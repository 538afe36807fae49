"""Request bodies: a size limit, and API credentials checked before any body is read.

An ASGI middleware in front of every route, so that nothing reads a body first:
- a request to the JSON API that carries a body must have a valid API key, or it is
  answered 401 without reading it (the key found is kept for the route);
- a body announced larger than `max_bytes` (Content-Length) is answered 413 unread;
- a body without a Content-Length (chunked) is read up to `max_bytes` and answered 413
  once it goes over, else handed to the route as read: at most `max_bytes` are held.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canone.web.api import PREFIX
from canone.web.api.base import authenticated, secure
from canone.web.problems import problem, response_for


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not chunked and length in (None, "0"):
            return await self.app(scope, receive, send)  # no body
        if scope["path"].startswith(PREFIX + "/"):
            try:
                await authenticated(Request(scope))
            except Exception as exc:  # the route's own answer: 401 problem details
                return await secure(response_for(exc))(scope, receive, send)
        if length is not None and not chunked:
            if not length.strip().isdigit():  # servers refuse these; a test client may not
                return await problem(400, "bad_request", "Content-Length is not a number."
                                     )(scope, receive, send)
            if int(length) > self.max_bytes:
                return await self._too_large(scope, receive, send)
            return await self.app(scope, receive, send)  # the server reads no more than it
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return await self._too_large(scope, receive, send)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "body_too_large",
                           f"The request body is larger than {self.max_bytes} bytes.")
        if scope["path"].startswith(PREFIX + "/"):
            secure(response)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, as one message; then the server's own (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
