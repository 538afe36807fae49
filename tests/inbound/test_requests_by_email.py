"""A primary admin writes to support: the email becomes an unverified change request; any
other sender is refused with 550 and nothing is created. Real messages, sent with smtplib."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

import pytest

from canone.integrations import inbound_requests
from canone.services import accounts, requests
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.services.records import ChangeRequest
from outbox.support import config, outbox_rows, sign_up

SUPPORT = Actor(STAFF, "staff:sam@canone.example")


def send(port: int, sender: str, subject: str, text: str, envelope: str | None = None) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@canone.example"
    message["Subject"] = subject
    message.set_content(text)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message, from_addr=envelope)


def requests_on(svc: Services, account_id: str) -> list[ChangeRequest]:
    return requests.requests_of(svc, SUPPORT, account_id)


def test_an_email_from_the_primary_admin_opens_an_unverified_request(svc, database, inbound_port):
    account = sign_up(svc).account

    send(inbound_port, "Ada Lovelace <Ada@Example.com>", "Move us to yearly billing",
         "Hello,\nwe would like to pay yearly from next month.\n\nAda\n")

    [request] = requests_on(svc, account.id)
    assert request.source == "email"
    assert request.verified is False
    assert request.status == "open"
    assert request.desired is None
    assert request.reason == "Email to support"
    assert request.message == ("Move us to yearly billing\n\nHello,\nwe would like to pay "
                               "yearly from next month.\n\nAda")
    assert request.requester_email == "ada@example.com"
    assert request.history[0].actor == "email:ada@example.com"
    acknowledgements = [r for r in outbox_rows(database)
                        if r["payload"]["kind"] == "request_received"]
    assert [r["payload"]["to"] for r in acknowledgements] == ["ada@example.com"]

    # Support confirms the sender by taking the request; then it is verified.
    taken = requests.transition(svc, SUPPORT, request.id, "in_progress", message="Confirmed.")
    assert taken.verified is True


def test_a_stranger_is_refused_at_rcpt_and_nothing_is_created(svc, inbound_port, caplog):
    account = sign_up(svc).account
    caplog.set_level(logging.WARNING, logger="canone.integrations.inbound_mail")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(inbound_port, "mallory@example.net", "Cancel everything", "Now.")

    [(code, reply)] = refused.value.recipients.values()
    assert code == 550
    assert b"mallory@example.net" in reply
    assert requests_on(svc, account.id) == []
    assert "mallory@example.net" in caplog.text


def test_a_forged_from_header_is_refused_at_data(svc, inbound_port):
    account = sign_up(svc).account
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(inbound_port, "mallory@example.net", "Upgrade", "Please.",
             envelope="ada@example.com")
    assert refused.value.smtp_code == 550
    assert requests_on(svc, account.id) == []


def test_an_admin_who_is_not_the_primary_admin_is_refused(svc, inbound_port):
    account = sign_up(svc, config(seats=2)).account
    with svc.database.transaction() as store:
        ada = store.people.user_by_email("ada@example.com")
    assert ada is not None
    accounts.add_user(svc, Actor.of_user(ada), account.id, "dora@example.com", "Dora",
                      "correct horse", role="admin", billing=True)

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(inbound_port, "dora@example.com", "Add seats", "Two more, please.")

    assert next(iter(refused.value.recipients.values()))[0] == 550
    assert requests_on(svc, account.id) == []


def test_a_quoted_address_matches_no_admin_even_one_stored_before_they_were_refused(
        svc, inbound_port):
    account = sign_up(svc).account
    quoted = '"a\\nb"@example.com'
    with svc.database.transaction() as store:  # as an older version could have stored it
        ada = store.people.user_by_email("ada@example.com")
        assert ada is not None
        store.people.save_user(ada.but(email=quoted))

    assert inbound_requests.primary_admin(svc, quoted) is None  # the From header's check
    with smtplib.SMTP("127.0.0.1", inbound_port, timeout=10) as smtp:
        smtp.ehlo("client.example")
        smtp.mail(quoted)
        code, reply = smtp.rcpt("support@canone.example")

    assert code == 550
    assert b"is not the primary admin" in reply
    assert requests_on(svc, account.id) == []
