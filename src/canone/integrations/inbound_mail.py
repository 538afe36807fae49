"""Inbound email: a primary admin opens a change request by writing to canone.

An aiosmtpd handler. A message is accepted only when both the envelope sender (checked at
RCPT, before the message is transferred) and the From address (checked at DATA) resolve to
a primary admin; anything else gets a 550 reply the sending server shows its user, and a log
line. Neither address proves who wrote (SPF/DKIM are not checked), so the services mark the
request "from email, sender not verified" and support confirms before applying it.

Automatic replies (out-of-office notices, RFC 3834 `Auto-Submitted`, `X-Autoreply`,
`Precedence: auto_reply`) are accepted and dropped: they are nobody's request, and a refusal
would only bounce back to another robot. A text in a charset Python does not know is read
with replacement characters rather than refused. Messages are at most 1 MiB (552 beyond).

`resolve_sender` and `on_message` are blocking (they use the database), so they run in a
worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

ACCEPTED = "250 OK: request created"
IGNORED = "250 OK: automatic reply, ignored"
TRY_LATER = "451 4.3.0 Temporary failure, please try again later"
MAX_MESSAGE_BYTES = 1024 * 1024  # a request is text; larger messages get 552


def not_an_admin(address: str) -> str:
    return f"550 5.7.1 <{address}> is not the primary admin of a canone account"


class InboundMailHandler:
    def __init__(
        self,
        resolve_sender: Callable[[str], Any],
        on_message: Callable[[str, str, str], Any],
    ) -> None:
        """`resolve_sender(address)` is truthy for a primary admin's address (compare it
        case-insensitively); `on_message(sender, subject, body_text)` creates the request."""
        self.resolve_sender = resolve_sender
        self.on_message = on_message

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        sender = (envelope.mail_from or "").strip("<>")  # "<>": a bounce, from nobody
        refusal = await self._refusal(sender, session, "MAIL FROM")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        marker = automatic_reply(message)
        if marker:
            log.info("inbound mail from %s ignored: an automatic reply (%s)",
                     envelope.mail_from, marker)
            return IGNORED
        senders = [address for _, address in getaddresses(message.get_all("From", []))]
        if len(senders) != 1 or not senders[0]:
            log.warning("inbound mail refused from %s: From names %r", session.peer, senders)
            return "550 5.7.1 The message must have exactly one From address"
        sender = senders[0]
        refusal = await self._refusal(sender, session, "From")
        if refusal:
            return refusal
        subject = " ".join(str(message.get("Subject", "")).split())
        try:
            await asyncio.to_thread(self.on_message, sender, subject, body_text(message))
        except Exception:
            log.exception("inbound mail from %s: the request could not be created", sender)
            return TRY_LATER
        log.info("inbound mail from %s: request created (%r)", sender, subject)
        return ACCEPTED

    async def _refusal(self, address: str, session: Session, where: str) -> str | None:
        try:
            known = address and await asyncio.to_thread(self.resolve_sender, address)
        except Exception:
            log.exception("inbound mail: could not look up %s", address)
            return TRY_LATER
        if known:
            return None
        log.warning(
            "inbound mail refused from %s: %s <%s> is not a primary admin",
            session.peer,
            where,
            address,
        )
        return not_an_admin(address)


_AUTOMATIC_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})


def automatic_reply(message: EmailMessage) -> str | None:
    """The header that marks the message as sent by a program (an out-of-office reply, a
    vacation notice), or None for a message a person wrote."""
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if message.get(name) is not None:
            return name
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in _AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    return None


def body_text(message: EmailMessage) -> str:
    """The plain text the person wrote: the text part, else the HTML part as text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # a charset Python does not know: keep what reads
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = _HtmlText.convert(content)
    lines = content.replace("\r\n", "\n").split("\n")
    text = "\n".join(line.rstrip() for line in lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)  # at most one blank line between paragraphs


class _HtmlText(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    @classmethod
    def convert(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
        return "\n".join(" ".join(line.split()) for line in text.split("\n"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def serve_inbound(
    host: str,
    port: int,
    handler: InboundMailHandler,
    *,
    server_hostname: str = "canone",
    data_size_limit: int = MAX_MESSAGE_BYTES,
) -> Controller:
    """Start the inbound SMTP server in a background thread; `.stop()` the result to end it.

    `server_hostname` is what the server calls itself in its greeting (aiosmtpd would
    otherwise ask DNS for this machine's name, which can hang on a machine without DNS).
    """
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        server_hostname=server_hostname,
        data_size_limit=data_size_limit,
    )
    controller.start()
    return controller
