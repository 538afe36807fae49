"""Inbound email: real messages sent with smtplib to the real inbound SMTP server."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

import pytest

from canone.integrations.inbound_mail import InboundMailHandler, serve_inbound

from .smtp_server import free_port

ADMINS = {"anna@acme.example", "bruno@beta.example"}


class Inbound:
    """The server plus what reached `resolve_sender` and `on_message`."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.requests: list[tuple[str, str, str]] = []
        self.resolver_down = False
        self.creation_fails = False
        self.port = free_port()
        handler = InboundMailHandler(self.resolve, self.create_request)
        self.controller = serve_inbound("127.0.0.1", self.port, handler)

    def resolve(self, address: str) -> bool:
        self.asked.append(address)
        if self.resolver_down:
            raise ConnectionError("database is down")
        return address.lower() in ADMINS

    def create_request(self, sender: str, subject: str, body: str) -> None:
        if self.creation_fails:
            raise RuntimeError("constraint violated")
        self.requests.append((sender, subject, body))

    def connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP("127.0.0.1", self.port)
        smtp.ehlo("client.example")
        return smtp


@pytest.fixture
def inbound() -> Iterator[Inbound]:
    server = Inbound()
    yield server
    server.controller.stop()


def message(
    sender: str | None = "Anna Rossi <anna@acme.example>",
    subject: str = "Please move us to the Enterprise plan",
    text: str = "Hello,\nwe need SSO from next month.\n\nThanks, Anna\n",
) -> EmailMessage:
    msg = EmailMessage()
    if sender is not None:
        msg["From"] = sender
    msg["To"] = "support@canone.example"
    msg["Subject"] = subject
    msg.set_content(text)
    return msg


def wire(msg: EmailMessage) -> bytes:
    """The message as it travels: CRLF line ends (smtplib.data sends bytes as they are)."""
    return msg.as_bytes(policy=policy.SMTP)


def test_a_message_from_a_primary_admin_creates_a_request(inbound: Inbound):
    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        assert smtp.rcpt("support@canone.example") == (250, b"OK")
        reply = smtp.data(wire(message()))

    assert reply == (250, b"OK: request created")
    assert inbound.requests == [
        (
            "anna@acme.example",
            "Please move us to the Enterprise plan",
            "Hello,\nwe need SSO from next month.\n\nThanks, Anna",
        )
    ]
    assert inbound.asked == ["anna@acme.example", "anna@acme.example"]


def test_send_message_from_a_primary_admin_succeeds(inbound: Inbound):
    with inbound.connect() as smtp:
        refused = smtp.send_message(message("bruno@beta.example"))

    assert refused == {}
    assert [r[0] for r in inbound.requests] == ["bruno@beta.example"]


def test_an_unknown_sender_is_refused_at_rcpt_and_logged(
    inbound: Inbound, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="canone.integrations.inbound_mail")

    with inbound.connect() as smtp:
        smtp.mail("mallory@evil.example")
        reply = smtp.rcpt("support@canone.example")

    assert reply == (
        550,
        b"5.7.1 <mallory@evil.example> is not the primary admin of a canone account",
    )
    assert inbound.requests == []
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert record.getMessage().endswith(": MAIL FROM <mallory@evil.example> is not a primary admin")


def test_sendmail_from_an_unknown_sender_raises_recipients_refused(inbound: Inbound):
    with inbound.connect() as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp.send_message(message("Mallory <mallory@evil.example>"))

    assert refused.value.recipients == {
        "support@canone.example": (
            550,
            b"5.7.1 <mallory@evil.example> is not the primary admin of a canone account",
        )
    }
    assert inbound.requests == []


def test_a_known_envelope_with_a_stranger_in_from_is_refused_at_data(
    inbound: Inbound, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="canone.integrations.inbound_mail")

    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        smtp.rcpt("support@canone.example")
        reply = smtp.data(wire(message("Eve <eve@evil.example>")))

    assert reply == (
        550,
        b"5.7.1 <eve@evil.example> is not the primary admin of a canone account",
    )
    assert inbound.requests == []
    assert (
        caplog.records[-1].getMessage().endswith(": From <eve@evil.example> is not a primary admin")
    )


def test_a_bounce_with_the_null_sender_is_refused(inbound: Inbound):
    with inbound.connect() as smtp:
        smtp.mail("<>")
        reply = smtp.rcpt("support@canone.example")

    assert reply == (550, b"5.7.1 <> is not the primary admin of a canone account")
    assert inbound.asked == []


@pytest.mark.parametrize(
    "from_header",
    [None, "anna@acme.example, bruno@beta.example"],
)
def test_a_message_needs_exactly_one_from_address(inbound: Inbound, from_header: str | None):
    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        smtp.rcpt("support@canone.example")
        reply = smtp.data(wire(message(from_header)))

    assert reply == (550, b"5.7.1 The message must have exactly one From address")
    assert inbound.requests == []


def test_an_italian_subject_and_body_arrive_decoded(inbound: Inbound):
    msg = message(
        subject="Vorrei passare al piano Pro — è possibile?",
        text="Buongiorno,\nvorremmo più contatti: 25.000.\n\nGrazie, Anna\n",
    )

    with inbound.connect() as smtp:
        smtp.send_message(msg)

    assert inbound.requests == [
        (
            "anna@acme.example",
            "Vorrei passare al piano Pro — è possibile?",
            "Buongiorno,\nvorremmo più contatti: 25.000.\n\nGrazie, Anna",
        )
    ]


def test_the_text_part_is_preferred_over_html_and_attachments(inbound: Inbound):
    msg = message(text="Plain words.\n")
    msg.add_alternative("<p>Rich <b>words</b>.</p>", subtype="html")
    msg.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="shot.png")

    with inbound.connect() as smtp:
        smtp.send_message(msg)

    assert inbound.requests[0][2] == "Plain words."


def test_an_html_only_message_becomes_text(inbound: Inbound):
    msg = message()
    msg.set_content(
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Hello,</p><p>we need <b>SSO</b>&nbsp;soon.<br>Anna</p></body></html>",
        subtype="html",
    )

    with inbound.connect() as smtp:
        smtp.send_message(msg)

    assert inbound.requests[0][2] == "Hello,\n\nwe need SSO soon.\nAnna"


def test_a_folded_multiline_subject_is_one_line(inbound: Inbound):
    raw = (
        b"From: anna@acme.example\r\nTo: support@canone.example\r\n"
        b"Subject: Please move us\r\n  to the Enterprise plan\r\n\r\nBody\r\n"
    )

    with inbound.connect() as smtp:
        smtp.sendmail("anna@acme.example", ["support@canone.example"], raw)

    assert inbound.requests == [
        ("anna@acme.example", "Please move us to the Enterprise plan", "Body")
    ]


def test_when_the_sender_cannot_be_looked_up_the_client_is_told_to_retry(
    inbound: Inbound, caplog: pytest.LogCaptureFixture
):
    inbound.resolver_down = True

    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        reply = smtp.rcpt("support@canone.example")

    assert reply == (451, b"4.3.0 Temporary failure, please try again later")
    assert "could not look up anna@acme.example" in caplog.text


def test_when_the_request_cannot_be_created_the_client_is_told_to_retry(
    inbound: Inbound, caplog: pytest.LogCaptureFixture
):
    inbound.creation_fails = True

    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        smtp.rcpt("support@canone.example")
        reply = smtp.data(wire(message()))

    assert reply == (451, b"4.3.0 Temporary failure, please try again later")
    assert "the request could not be created" in caplog.text
    assert "RuntimeError: constraint violated" in caplog.text


def test_an_oversized_message_is_refused(inbound: Inbound):
    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        smtp.rcpt("support@canone.example")
        reply = smtp.data(wire(message(text=("x" * 70 + "\n") * 16_000)))

    assert reply == (552, b"Error: Too much mail data")
    assert inbound.requests == []


def test_the_greeting_names_canone(inbound: Inbound):
    with smtplib.SMTP("127.0.0.1", inbound.port) as smtp:
        code, banner = smtp.ehlo("client.example")

    assert code == 250
    assert banner.split(b"\n")[0] == b"canone"


@pytest.mark.parametrize(("header", "value"), [
    ("Auto-Submitted", "auto-replied"),
    ("Auto-Submitted", "auto-generated"),
    ("Auto-Submitted", "auto-replied; owner-email=anna@acme.example"),
    ("X-Autoreply", "yes"),
    ("X-Autorespond", "Out of office"),
    ("Precedence", "auto_reply"),
    ("Precedence", "bulk"),
])
def test_an_automatic_reply_is_accepted_and_dropped(inbound: Inbound, header: str, value: str):
    msg = message(subject="Out of office: Please move us", text="I am away until Monday.\n")
    msg[header] = value
    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        smtp.rcpt("support@canone.example")
        reply = smtp.data(wire(msg))

    assert reply == (250, b"OK: automatic reply, ignored")  # a refusal would bounce to a robot
    assert inbound.requests == []


def test_auto_submitted_no_is_a_person_writing(inbound: Inbound):
    msg = message()
    msg["Auto-Submitted"] = "no"
    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        smtp.rcpt("support@canone.example")
        assert smtp.data(wire(msg)) == (250, b"OK: request created")
    assert len(inbound.requests) == 1


def test_an_unknown_charset_is_read_with_replacement_characters(
        inbound: Inbound, caplog: pytest.LogCaptureFixture):
    raw = (b"From: Anna <anna@acme.example>\r\nTo: support@canone.example\r\n"
           b"Subject: =?x-klingon?q?Pi=F9_posti?= please\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=x-klingon\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n"
           b"Vorremmo 3 posti in pi\xf9.\r\n")
    with inbound.connect() as smtp:
        smtp.mail("anna@acme.example")
        smtp.rcpt("support@canone.example")
        reply = smtp.data(raw)

    assert reply == (250, b"OK: request created")
    [(sender, subject, body)] = inbound.requests
    assert sender == "anna@acme.example"
    assert body == "Vorremmo 3 posti in pi\ufffd."
    assert subject.endswith("please")
    assert "Traceback" not in caplog.text
