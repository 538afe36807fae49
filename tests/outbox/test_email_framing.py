"""What every email carries whatever its news (sender, Reply-To, Auto-Submitted, the account,
its plan and a link to the billing page), the order emails leave in, and threshold emails,
all read at a real SMTP server."""

from __future__ import annotations

import pytest

from canone.integrations.mail import SmtpMailer
from canone.integrations.outbox import deliver_notifications
from canone.services import usage
from canone.services.access import STAFF, Actor
from canone.services.context import new_id
from canone.services.records import Notification

from .support import config, sign_up
from .test_emails import html_of, text_of

SUPPORT = Actor(STAFF, "staff:sam@canone.example")


def test_the_sender_reply_to_and_billing_link_come_from_the_settings(
        svc, database, clock, smtp_server, renderer):
    sign_up(svc, config(product="sales", tier="pro", contacts=None, seats=3))
    mailer = SmtpMailer(smtp_server.url, "ACME Billing <billing@acme.example>",
                        reply_to="ACME Support <support@acme.example>")

    deliver_notifications(database, mailer, renderer, clock.now(),
                          public_url="https://billing.acme.example/")

    [received] = smtp_server.messages
    message = received.message
    assert received.mail_from == "billing@acme.example"
    assert message["From"] == "ACME Billing <billing@acme.example>"
    assert message["Reply-To"] == "ACME Support <support@acme.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert text_of(message).endswith(
        "Account: Ada's Shop · plan: Sales Pro, 3 user seats, monthly\n"
        "Billing & Upgrade: https://billing.acme.example/billing\n")
    assert ('<a href="https://billing.acme.example/billing">https://billing.acme.example/billing'
            '</a>') in html_of(message)


def test_emails_written_at_one_instant_leave_in_the_order_they_were_written(
        svc, database, clock, smtp_server, renderer):
    account = sign_up(svc).account
    with database.transaction() as store:  # one instant, random ids: only the order tells
        for n in range(12):
            store.outbox.add_notification(Notification(
                new_id("ntf"), account.id, "ada@example.com", "request_status", "en",
                {"request_id": f"req_{n:02d}", "status": "open", "reason": "",
                 "desired": None, "message": ""}, clock.now()))

    deliver_notifications(database, SmtpMailer(smtp_server.url), renderer, clock.now())

    texts = [text_of(m.message) for m in smtp_server.messages]
    assert texts[0].startswith("Hello,\n\nwelcome")  # the sign-up's, written first
    references = [text.split("Reference: ")[1][:6] for text in texts[1:]]
    assert references == [f"req_{n:02d}" for n in range(12)]


@pytest.mark.parametrize(("locale", "subject", "line"), [
    ("en", "You are over your contact limit",
     "your account has 2,600 contacts: 104% of the 2,500 included in your plan."),
    ("it", "Hai superato il limite di contatti",
     "il tuo account ha 2.600 contatti: il 104% dei 2.500 inclusi nel tuo piano."),
])
def test_thresholds_crossed_at_once_are_one_email_with_the_real_usage(
        svc, database, clock, smtp_server, renderer, locale, subject, line):
    currency = "USD" if locale == "en" else "EUR"
    account = sign_up(svc, config(currency=currency, contacts=2500), locale=locale).account
    deliver_notifications(database, SmtpMailer(smtp_server.url), renderer, clock.now())
    smtp_server.messages.clear()

    report = usage.report(svc, SUPPORT, account.id, 2600, 1)  # 75 %, 90 % and 100 % at once
    deliver_notifications(database, SmtpMailer(smtp_server.url), renderer, clock.now())

    assert report.thresholds_reached == (75, 90, 100)
    [received] = smtp_server.messages
    assert received.message["Subject"] == subject
    assert line in text_of(received.message)
