"""Mailers: SMTP for real delivery, the console when no server is configured, and a
recording fake for tests. The outbox calls `send` and retries whatever raises.

    MailDeliveryError      the message was not delivered; `permanent` when retrying is useless
                           (the server refused it with a 5xx reply)
"""

from __future__ import annotations

import smtplib
import ssl
import sys
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import SMTPUTF8 as SMTPUTF8_POLICY
from email.utils import formatdate, make_msgid, parseaddr
from typing import TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from canone.services.ports import Email, Mailer

DEFAULT_SENDER = "canone <billing@canone.invalid>"
_TRUE = ("1", "true", "yes", "on")


class MailDeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def build_message(email: Email, sender: str = DEFAULT_SENDER,
                  reply_to: str | None = None) -> EmailMessage:
    """The MIME message: text, an html alternative when given, then the attachments.
    Every email is marked `Auto-Submitted: auto-generated` (RFC 3834), so that mail
    servers send no out-of-office replies to it and mail loops cannot start."""
    message = EmailMessage()
    message["From"] = sender
    if reply_to:
        message["Reply-To"] = reply_to
    message["To"] = email.to
    message["Auto-Submitted"] = "auto-generated"
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "canone.invalid"
    if email.message_id:
        # A stable id lets the receiving side recognise a message the outbox sent twice.
        bare = email.message_id.strip("<>")
        message["Message-ID"] = f"<{bare}>" if "@" in bare else f"<{bare}@{domain}>"
    else:
        message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """What an smtp:// or smtps:// url says."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"not an smtp:// or smtps:// url: {url!r}")
        if not parts.hostname:
            raise ValueError(f"the smtp url names no host: {url!r}")
        implicit_tls = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[-1].lower() in _TRUE
        if implicit_tls and starttls:
            raise ValueError("smtps:// is already encrypted; drop ?starttls=1")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 587 if starttls else 25),
            implicit_tls=implicit_tls,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )


class SmtpMailer:
    """Sends through an SMTP server: a new connection per message (the outbox sends few)."""

    def __init__(
        self,
        url: str,
        sender: str = DEFAULT_SENDER,
        *,
        reply_to: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = SmtpSettings.from_url(url)
        self.sender = sender
        self.reply_to = reply_to
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    def send(self, email: Email) -> None:
        try:
            message = build_message(email, self.sender, self.reply_to)
        except ValueError as error:  # e.g. a line break in a header: no retry will help
            raise MailDeliveryError(f"cannot build the message: {error}", permanent=True) from error
        envelope_from = parseaddr(self.sender)[1]
        try:
            with self._connect() as smtp:
                if self.settings.starttls:
                    smtp.starttls(context=self.ssl_context)
                if self.settings.username is not None:
                    smtp.login(self.settings.username, self.settings.password or "")
                # Serialised here: `send_message` would turn a line starting "From " into
                # ">From " (mbox quoting), which the recipient then reads.
                recipient = parseaddr(email.to)[1]
                international = not (envelope_from + recipient).isascii()
                smtp.sendmail(envelope_from, [recipient], message.as_bytes(
                    policy=SMTPUTF8_POLICY if international else SMTP_POLICY),
                    mail_options=["SMTPUTF8", "BODY=8BITMIME"] if international else ())
        except smtplib.SMTPResponseException as error:
            raise MailDeliveryError(
                f"{self._where()} replied {error.smtp_code} {_text(error.smtp_error)}",
                permanent=500 <= error.smtp_code < 600,
            ) from error
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise MailDeliveryError(
                f"{self._where()} refused {email.to}: {code} {_text(text)}",
                permanent=500 <= code < 600,
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailDeliveryError(f"{self._where()}: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.implicit_tls:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=self.ssl_context)
        return smtplib.SMTP(s.host, s.port, timeout=self.timeout)

    def _where(self) -> str:
        return f"SMTP server {self.settings.host}:{self.settings.port}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


class ConsoleMailer:
    """Prints each email (CANONE_SMTP_URL unset): development, demos, the first run."""

    def __init__(self, stream: TextIO | None = None, sender: str = DEFAULT_SENDER,
                 reply_to: str | None = None) -> None:
        self.stream = stream
        self.sender = sender
        self.reply_to = reply_to
        self._lock = threading.Lock()  # one email at a time, never interleaved

    def send(self, email: Email) -> None:
        lines = [
            "-" * 72,
            f"From: {self.sender}",
            *([f"Reply-To: {self.reply_to}"] if self.reply_to else []),
            f"To: {email.to}",
            f"Subject: {email.subject}",
        ]
        if email.message_id:
            lines.append(f"Message-ID: {email.message_id}")
        lines += [
            f"Attachment: {a.filename} ({a.content_type}, {len(a.data)} bytes)"
            for a in email.attachments
        ]
        if email.html is not None:
            lines.append("(an HTML version is attached too)")
        lines += ["", email.text.rstrip("\n"), "-" * 72]
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write("\n".join(lines) + "\n")
            stream.flush()


class RecordingMailer:
    """Keeps what was sent; `fail_next(n)` makes the next n sends raise, to test retries."""

    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.attempts = 0
        self._failures_left = 0
        self._lock = threading.Lock()

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._failures_left = count

    def send(self, email: Email) -> None:
        with self._lock:
            self.attempts += 1
            if self._failures_left > 0:
                self._failures_left -= 1
                raise MailDeliveryError(f"simulated failure sending to {email.to}")
            self.sent.append(email)

    def to(self, address: str) -> list[Email]:
        return [email for email in self.sent if email.to == address]


def mailer_from_url(url: str | None, sender: str = DEFAULT_SENDER,
                    reply_to: str | None = None) -> Mailer:
    """The SMTP mailer for an smtp(s):// url, the console mailer when there is none."""
    if not url:
        return ConsoleMailer(sender=sender, reply_to=reply_to)
    return SmtpMailer(url, sender, reply_to=reply_to)


def address_problem(value: str) -> str | None:
    """Why `value` cannot be a From or Reply-To header ("Name <a@b.example>" or
    "a@b.example"), or None when it can."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "must not contain control characters"
    address = parseaddr(value)[1]
    local, at, domain = address.rpartition("@")
    if not (local and at and "." in domain):
        return "must be an address like 'Billing <billing@example.com>'"
    return None
