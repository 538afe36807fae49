"""Mailers, tested by sending real email to a real SMTP server on localhost."""

from __future__ import annotations

import io

import pytest

from canone.integrations.mail import (
    DEFAULT_SENDER,
    ConsoleMailer,
    MailDeliveryError,
    RecordingMailer,
    SmtpMailer,
    SmtpSettings,
    address_problem,
    mailer_from_url,
)
from canone.services.ports import Attachment, Email

from .smtp_server import SmtpTestServer, client_tls_context, free_port

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nnot really a pdf, but binary\x00\x01\xff\n%%EOF\n"


def welcome(**changes: object) -> Email:
    fields: dict[str, object] = {
        "to": "anna@example.com",
        "subject": "Your plan is now Marketing Pro",
        "text": "Hello Anna,\nyour plan changed today.\n",
    }
    fields.update(changes)
    return Email(**fields)  # type: ignore[arg-type]


def test_a_plain_email_arrives_with_sender_recipient_subject_and_text(
    smtp_server: SmtpTestServer,
):
    SmtpMailer(smtp_server.url).send(welcome())

    [received] = smtp_server.messages
    assert received.mail_from == "billing@canone.invalid"
    assert received.rcpt_tos == ("anna@example.com",)
    message = received.message
    assert message["From"] == DEFAULT_SENDER
    assert message["To"] == "anna@example.com"
    assert message["Subject"] == "Your plan is now Marketing Pro"
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Hello Anna,\nyour plan changed today.\n"
    assert message["Message-ID"].endswith("@canone.invalid>")
    assert message["Date"] is not None
    assert message["Auto-Submitted"] == "auto-generated"  # RFC 3834: no auto-replies to it
    assert message["Reply-To"] is None


def test_the_sender_is_configurable(smtp_server: SmtpTestServer):
    SmtpMailer(smtp_server.url, "Fatturazione ACME <fatture@acme.example>").send(welcome())

    [received] = smtp_server.messages
    assert received.mail_from == "fatture@acme.example"
    assert received.message["From"] == "Fatturazione ACME <fatture@acme.example>"


def test_replies_go_to_the_reply_to_address_when_one_is_set(smtp_server: SmtpTestServer):
    mailer_from_url(smtp_server.url, "Billing <billing@acme.example>",
                    "ACME Support <support@acme.example>").send(welcome())

    [received] = smtp_server.messages
    assert received.mail_from == "billing@acme.example"
    assert received.message["Reply-To"] == "ACME Support <support@acme.example>"
    assert received.message["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize(("value", "problem"), [
    ("Billing <billing@acme.example>", None),
    ("billing@acme.example", None),
    ("billing", "must be an address like 'Billing <billing@example.com>'"),
    ("Billing <billing@localhost>", "must be an address like 'Billing <billing@example.com>'"),
    ("a@acme.example\r\nBcc: all@acme.example", "must not contain control characters"),
])
def test_a_sender_setting_must_be_one_address(value: str, problem: str | None):
    assert address_problem(value) == problem


def test_italian_text_and_the_euro_sign_survive_the_trip(smtp_server: SmtpTestServer):
    email = welcome(
        subject="Fattura 2026-000123: 1.234,50 € addebitati",
        text="Ciao Anna,\nabbiamo addebitato 1.234,50 € per il piano più completo.\n",
        to="Anna Rossi <anna@example.it>",
    )

    SmtpMailer(smtp_server.url).send(email)

    [received] = smtp_server.messages
    assert received.rcpt_tos == ("anna@example.it",)
    assert received.message["Subject"] == "Fattura 2026-000123: 1.234,50 € addebitati"
    assert received.message["To"] == "Anna Rossi <anna@example.it>"
    assert received.message.get_content() == email.text


def test_a_line_starting_with_from_arrives_as_written(smtp_server: SmtpTestServer):
    SmtpMailer(smtp_server.url).send(welcome(text="Your message:\nFrom now on, yearly.\n"))

    assert smtp_server.messages[0].message.get_content() == (
        "Your message:\nFrom now on, yearly.\n")


def test_an_address_with_accents_is_delivered(smtp_server: SmtpTestServer):
    SmtpMailer(smtp_server.url).send(welcome(to="Zoë <zoë@esempio.it>", subject="Più €"))

    [received] = smtp_server.messages
    assert received.rcpt_tos == ("zoë@esempio.it",)
    assert (received.message["To"], received.message["Subject"]) == ("Zoë <zoë@esempio.it>",
                                                                     "Più €")


def test_html_alternative_and_attachment_are_read_back_exactly(smtp_server: SmtpTestServer):
    email = welcome(
        html="<p>Hello Anna,<br>your plan changed today.</p>",
        attachments=(Attachment("invoice-2026-000123.pdf", "application/pdf", PDF),),
    )

    SmtpMailer(smtp_server.url).send(email)

    message = smtp_server.messages[0].message
    assert message.get_content_type() == "multipart/mixed"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and plain.get_content() == email.text
    assert html is not None and html.get_content() == email.html + "\n"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invoice-2026-000123.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_several_attachments_keep_their_order_and_types(smtp_server: SmtpTestServer):
    email = welcome(
        attachments=(
            Attachment("a.pdf", "application/pdf", b"%PDF one"),
            Attachment("usage.csv", "text/csv", b"contacts,users\n2500,3\n"),
            Attachment("blob", "application/octet-stream", bytes(range(256))),
        )
    )

    SmtpMailer(smtp_server.url).send(email)

    parts = list(smtp_server.messages[0].message.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("a.pdf", "application/pdf"),
        ("usage.csv", "text/csv"),
        ("blob", "application/octet-stream"),
    ]
    assert parts[0].get_content() == b"%PDF one"
    assert parts[1].get_content() == "contacts,users\n2500,3\n"
    assert parts[2].get_content() == bytes(range(256))


@pytest.mark.parametrize(
    ("message_id", "header"),
    [
        ("evt_01HZX.email.1", "<evt_01HZX.email.1@canone.invalid>"),
        ("<evt_01HZX@mail.acme.example>", "<evt_01HZX@mail.acme.example>"),
        ("evt_7@acme.example", "<evt_7@acme.example>"),
    ],
)
def test_a_stable_message_id_is_kept_so_resends_can_be_recognised(
    smtp_server: SmtpTestServer, message_id: str, header: str
):
    mailer = SmtpMailer(smtp_server.url)
    mailer.send(welcome(message_id=message_id))
    mailer.send(welcome(message_id=message_id))

    assert [r.message["Message-ID"] for r in smtp_server.messages] == [header, header]


def test_login_with_user_and_password_from_the_url():
    with SmtpTestServer(users={"billing": "s3cret:@/"}) as server:
        url = f"smtp://billing:s3cret%3A%40%2F@{server.host}:{server.port}"
        SmtpMailer(url).send(welcome())

        assert [r.login for r in server.messages] == ["billing"]


def test_a_wrong_password_is_a_permanent_failure():
    with SmtpTestServer(users={"billing": "right"}) as server:
        url = f"smtp://billing:wrong@{server.host}:{server.port}"
        with pytest.raises(MailDeliveryError) as failed:
            SmtpMailer(url).send(welcome())

        assert failed.value.permanent
        assert str(failed.value).startswith(f"SMTP server 127.0.0.1:{server.port} replied 535")
        assert server.messages == []


def test_starttls_upgrades_the_connection_and_verifies_the_certificate():
    with SmtpTestServer(starttls=True, users={"billing": "pw"}) as server:
        url = f"smtp://billing:pw@{server.host}:{server.port}?starttls=1"
        SmtpMailer(url, ssl_context=client_tls_context()).send(welcome())

        assert [r.login for r in server.messages] == ["billing"]


def test_starttls_with_an_untrusted_certificate_fails():
    with SmtpTestServer(starttls=True) as server, pytest.raises(MailDeliveryError) as failed:
        SmtpMailer(server.url).send(welcome())  # the system CAs do not know the test cert

    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert not failed.value.permanent


def test_a_server_that_requires_starttls_refuses_plain_text():
    with SmtpTestServer(starttls=True) as server, pytest.raises(MailDeliveryError) as failed:
        SmtpMailer(f"smtp://{server.host}:{server.port}").send(welcome())

    assert "530" in str(failed.value)
    assert server.messages == []


def test_smtps_speaks_tls_from_the_first_byte():
    with SmtpTestServer(implicit_tls=True) as server:
        SmtpMailer(server.url, ssl_context=client_tls_context()).send(welcome())

        assert [r.message["Subject"] for r in server.messages] == ["Your plan is now Marketing Pro"]


def test_a_refused_recipient_is_a_permanent_failure(smtp_server: SmtpTestServer):
    smtp_server.refused.add("gone@example.com")

    with pytest.raises(MailDeliveryError) as failed:
        SmtpMailer(smtp_server.url).send(welcome(to="gone@example.com"))

    assert failed.value.permanent
    assert str(failed.value) == (
        f"SMTP server 127.0.0.1:{smtp_server.port} refused gone@example.com:"
        " 550 5.1.1 <gone@example.com>: no such mailbox"
    )


def test_a_temporary_refusal_is_worth_retrying(smtp_server: SmtpTestServer):
    smtp_server.fail_data = True

    with pytest.raises(MailDeliveryError) as failed:
        SmtpMailer(smtp_server.url).send(welcome())

    assert not failed.value.permanent
    assert str(failed.value) == (
        f"SMTP server 127.0.0.1:{smtp_server.port} replied 451 4.3.0 try again later"
    )


def test_a_server_that_is_down_is_a_temporary_failure():
    port = free_port()

    with pytest.raises(MailDeliveryError) as failed:
        SmtpMailer(f"smtp://127.0.0.1:{port}", timeout=5).send(welcome())

    assert not failed.value.permanent
    assert str(failed.value).startswith(f"SMTP server 127.0.0.1:{port}: [Errno 111]")


def test_a_line_break_in_a_header_is_refused_before_connecting():
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}")

    with pytest.raises(MailDeliveryError) as failed:
        mailer.send(welcome(subject="Hi\r\nBcc: everyone@example.com"))

    assert failed.value.permanent
    assert str(failed.value).startswith("cannot build the message:")


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpSettings("mail.example.com", 25, False, False, None, None)),
        (
            "smtp://mail.example.com:2525",
            SmtpSettings("mail.example.com", 2525, False, False, None, None),
        ),
        (
            "smtp://u:p@mail.example.com?starttls=1",
            SmtpSettings("mail.example.com", 587, False, True, "u", "p"),
        ),
        (
            "smtp://u%40x.it:p%20w@h:26?starttls=true",
            SmtpSettings("h", 26, False, True, "u@x.it", "p w"),
        ),
        ("smtp://h?starttls=0", SmtpSettings("h", 25, False, False, None, None)),
        ("smtps://u:@h", SmtpSettings("h", 465, True, False, "u", "")),
        ("smtps://h:4650", SmtpSettings("h", 4650, True, False, None, None)),
    ],
)
def test_smtp_urls_are_understood(url: str, expected: SmtpSettings):
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://mail.example.com", "not an smtp:// or smtps:// url: 'http://mail.example.com'"),
        ("smtp://", "the smtp url names no host: 'smtp://'"),
        ("smtps://h?starttls=1", "smtps:// is already encrypted; drop ?starttls=1"),
    ],
)
def test_bad_smtp_urls_are_refused_clearly(url: str, error: str):
    with pytest.raises(ValueError) as refused:
        SmtpSettings.from_url(url)

    assert str(refused.value) == error


def test_mailer_from_url_picks_smtp_or_the_console():
    smtp = mailer_from_url("smtp://mail.example.com:2525", "x <x@example.com>")
    assert isinstance(smtp, SmtpMailer)
    assert (smtp.settings.port, smtp.sender) == (2525, "x <x@example.com>")
    assert isinstance(mailer_from_url(None), ConsoleMailer)
    assert isinstance(mailer_from_url(""), ConsoleMailer)
    with pytest.raises(ValueError):
        mailer_from_url("mailto:someone@example.com")


# -- console and recording mailers --------------------------------------------------------


def test_the_console_mailer_prints_the_email():
    out = io.StringIO()
    email = welcome(
        html="<p>hi</p>",
        message_id="evt_1.email",
        attachments=(Attachment("invoice-2026-000123.pdf", "application/pdf", PDF),),
    )

    ConsoleMailer(out).send(email)

    rule = "-" * 72
    assert out.getvalue() == (
        f"{rule}\n"
        "From: canone <billing@canone.invalid>\n"
        "To: anna@example.com\n"
        "Subject: Your plan is now Marketing Pro\n"
        "Message-ID: evt_1.email\n"
        f"Attachment: invoice-2026-000123.pdf (application/pdf, {len(PDF)} bytes)\n"
        "(an HTML version is attached too)\n"
        "\n"
        "Hello Anna,\n"
        "your plan changed today.\n"
        f"{rule}\n"
    )


def test_the_console_mailer_shows_the_reply_to_address():
    out = io.StringIO()
    ConsoleMailer(out, reply_to="help@acme.example").send(welcome())
    assert "From: canone <billing@canone.invalid>\nReply-To: help@acme.example\nTo: " in (
        out.getvalue())


def test_the_console_mailer_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]):
    ConsoleMailer().send(welcome(subject="Benvenuta"))

    assert "Subject: Benvenuta\n" in capsys.readouterr().out


def test_the_recording_mailer_keeps_what_was_sent():
    mailer = RecordingMailer()
    mailer.send(welcome())
    mailer.send(welcome(to="bruno@example.com", subject="Request received"))

    assert [e.subject for e in mailer.sent] == [
        "Your plan is now Marketing Pro",
        "Request received",
    ]
    assert [e.subject for e in mailer.to("bruno@example.com")] == ["Request received"]


def test_the_recording_mailer_can_fail_the_next_sends_to_exercise_retries():
    mailer = RecordingMailer()
    mailer.fail_next(2)

    for _ in range(2):
        with pytest.raises(MailDeliveryError, match="simulated failure sending to anna@"):
            mailer.send(welcome())
    mailer.send(welcome())

    assert (mailer.attempts, len(mailer.sent)) == (3, 1)


def test_mail_settings_come_from_the_environment_with_defaults():
    from canone.settings import Settings

    default = Settings.from_env({})
    assert (default.mail_from, default.mail_reply_to, default.public_url) == (
        DEFAULT_SENDER, None, "http://127.0.0.1:8000")
    chosen = Settings.from_env({"CANONE_MAIL_FROM": "ACME <billing@acme.example>",
                                "CANONE_MAIL_REPLY_TO": "help@acme.example",
                                "CANONE_PUBLIC_URL": "https://billing.acme.example/"})
    assert (chosen.mail_from, chosen.mail_reply_to, chosen.public_url) == (
        "ACME <billing@acme.example>", "help@acme.example", "https://billing.acme.example")
