"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for tests.

aiosmtpd cannot bind port 0, so a free port is picked with a socket first.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

CERTS = Path(__file__).parent / "certs"
CERT_FILE = CERTS / "localhost.pem"  # self-signed for localhost and 127.0.0.1, valid to 2126
KEY_FILE = CERTS / "localhost.key"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def server_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT_FILE, KEY_FILE)
    return context


def client_tls_context() -> ssl.SSLContext:
    """A client context that trusts the test certificate (and verifies it)."""
    return ssl.create_default_context(cafile=str(CERT_FILE))


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    login: str | None  # the user that authenticated, if any


class _Collector:
    def __init__(self, server: SmtpTestServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address in self.server.refused:
            return f"550 5.1.1 <{address}>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.fail_data:
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        # Read it as a mail client would: with local line ends, not the wire's CRLF.
        message = message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.server.messages.append(
            Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), message, raw, login)
        )
        return "250 OK: queued"


class SmtpTestServer:
    """Start with `with SmtpTestServer() as smtp:`; `smtp.url` is what SmtpMailer takes."""

    def __init__(
        self,
        *,
        implicit_tls: bool = False,
        starttls: bool = False,
        users: dict[str, str] | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.users = users or {}
        self.messages: list[Received] = []
        self.refused: set[str] = set()
        self.fail_data = False
        kwargs: dict[str, Any] = {}
        if starttls:
            kwargs.update(tls_context=server_tls_context(), require_starttls=True)
        if self.users:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=starttls)
        self.controller = Controller(
            _Collector(self),
            hostname=self.host,
            port=self.port,
            ssl_context=server_tls_context() if implicit_tls else None,
            **kwargs,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        query = "?starttls=1" if self.starttls else ""
        return f"{scheme}://{self.host}:{self.port}{query}"

    def start(self) -> SmtpTestServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
