"""Emails from the outbox, through a real SMTP server (aiosmtpd), read as they arrived."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from email.message import EmailMessage

import pypdf
import pytest

from canone.db.database import Database
from canone.integrations.invoice_pdf import PdfInvoiceRenderer
from canone.integrations.mail import RecordingMailer, SmtpMailer
from canone.integrations.outbox import MAX_EMAIL_ATTEMPTS, deliver_notifications
from canone.services import accounts, apikeys, renewal, requests, usage
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.services.ports import Card, Email
from canone.services.records import Notification
from clocks import TestClock
from integrations.smtp_server import SmtpTestServer

from .support import config, outbox_rows, sign_up

SUPPORT = Actor(STAFF, "staff:sam@canone.example")
DECLINED_CARD = Card("4000000000000002", 12, 2035, "123")


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\xa0", " ")


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content()).replace("\xa0", " ")


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")


def attachments(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    return {part.get_filename() or "": (part.get_content_type(), part.get_content())
            for part in message.iter_attachments()}


def deliver(database: Database, smtp: SmtpTestServer, clock: TestClock,
            renderer: PdfInvoiceRenderer) -> None:
    deliver_notifications(database, SmtpMailer(smtp.url), renderer, clock.now())


def user_actor(svc: Services, email: str) -> Actor:
    with svc.database.transaction() as store:
        user = store.people.user_by_email(email)
    assert user is not None
    return Actor.of_user(user)


def test_a_sign_up_is_welcomed_with_its_plan_and_the_invoice_pdf(
        svc, database, clock, smtp_server, renderer):
    signed = sign_up(svc, config(seats=3))  # $49.00 + 2 extra seats at $19.00

    deliver(database, smtp_server, clock, renderer)

    [received] = smtp_server.messages
    message = received.message
    assert received.rcpt_tos == ("ada@example.com",)
    assert message["Subject"] == "Welcome: your Marketing Plus plan is active, invoice 2026-000001"
    assert text_of(message) == (
        "Hello,\n\n"
        "welcome, and thank you for signing up. Your account is active on the plan Marketing "
        "Plus, 1,000 contacts, 3 user seats, monthly.\n\n"
        "Invoice 2026-000001 for $87.00, for the first period, is attached.\n\n"
        "We charged $87.00 to your card on file.\n\n"
        "— canone billing\n\n"
        "Account: Ada's Shop · plan: Marketing Plus, 1,000 contacts, 3 user seats, monthly\n"
        "Billing & Upgrade: http://127.0.0.1:8000/billing\n")
    assert "updated" not in text_of(message)
    assert "<p>welcome, and thank you for signing up." in html_of(message)
    assert ('<a href="http://127.0.0.1:8000/billing">http://127.0.0.1:8000/billing</a>'
            in html_of(message))
    content_type, data = attachments(message)["invoice-2026-000001.pdf"]
    assert content_type == "application/pdf"
    text = pdf_text(data)
    assert "Number 2026-000001" in text
    assert "Marketing Plus, 1,000 contacts, monthly $49.00" in text
    assert "2 extra user seats, monthly $38.00" in text
    assert "Total $87.00" in text
    assert "Amount paid $87.00" in text
    assert "Ada's Shop" in text and "canone demo seller" in text
    [row] = outbox_rows(database)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    assert message["Message-ID"].startswith(f"<{row['id']}@")  # stable: a resend is known
    assert signed.invoice.amount_paid == 8700


def test_an_italian_account_gets_its_email_and_invoice_in_italian(
        svc, database, clock, smtp_server, renderer):
    sign_up(svc, config(currency="EUR", addons=("sms",)), email="anna@esempio.it", locale="it")

    deliver(database, smtp_server, clock, renderer)

    [received] = smtp_server.messages
    message = received.message
    assert message["Subject"] == "Il tuo piano Marketing Plus è attivo: fattura 2026-000001"
    body = text_of(message)
    assert body == (
        "Buongiorno,\n\n"
        "ti diamo il benvenuto e ti ringraziamo per l'iscrizione. Il tuo account è attivo con "
        "il piano Marketing Plus, 1.000 contatti, 1 postazione utente, mensile, componenti "
        "aggiuntivi: SMS.\n\n"
        "In allegato trovi la fattura 2026-000001 di 64,00 € per il primo periodo.\n\n"
        "Abbiamo addebitato 64,00 € sulla tua carta.\n\n"
        "— Fatturazione canone\n\n"
        "Account: Ada's Shop · piano: Marketing Plus, 1.000 contatti, 1 postazione utente, "
        "mensile, componenti aggiuntivi: SMS\n"
        "Fatturazione e upgrade: http://127.0.0.1:8000/billing\n")
    assert '<html lang="it">' in html_of(message)
    assert list(attachments(message)) == ["fattura-2026-000001.pdf"]
    text = pdf_text(attachments(message)["fattura-2026-000001.pdf"][1])
    assert "Fattura" in text
    assert "Marketing Plus, 1.000 contatti, mensile 49,00 €" in text
    assert "Componente aggiuntivo SMS, mensile 15,00 €" in text
    assert "Totale 64,00 €" in text


@pytest.mark.parametrize("scope", ["account", "operator"])
def test_a_request_made_with_an_api_key_is_emailed_to_the_primary_admin(
        svc, database, clock, smtp_server, renderer, scope):
    account = sign_up(svc).account
    deliver(database, smtp_server, clock, renderer)  # the purchase confirmation
    key = apikeys.create(svc, "host app", account.id if scope == "account" else None,
                         test_mode=True).key

    request = requests.create(svc, apikeys.actor_of(key), account.id, config(tier="pro"),
                              "Growing", "Move us to Pro, please.", source="api")
    clock.advance(hours=1)
    requests.transition(svc, SUPPORT, request.id, "in_progress", message="On it.")
    deliver(database, smtp_server, clock, renderer)

    assert [(m.rcpt_tos, m.message["To"], m.message["Subject"])
            for m in smtp_server.messages[1:]] == [
        (("ada@example.com",), "ada@example.com", "We received your request"),
        (("ada@example.com",), "ada@example.com", "Your request is in progress")]
    assert "Your message:\nMove us to Pro, please." in text_of(smtp_server.messages[1].message)
    assert request.requester_email == "ada@example.com"
    assert request.history[0].actor == f"apikey:{key.id}"  # the audit still names the key


def test_a_request_is_acknowledged_and_every_status_change_emailed(
        svc, database, clock, smtp_server, renderer):
    account = sign_up(svc).account
    deliver(database, smtp_server, clock, renderer)  # the purchase confirmation
    admin = user_actor(svc, "ada@example.com")

    request = requests.create(svc, admin, account.id, config(tier="pro", contacts=5000),
                              "We are growing", "Please move us to Pro.")
    deliver(database, smtp_server, clock, renderer)
    received = smtp_server.messages[-1].message
    assert received["Subject"] == "We received your request"
    body = text_of(received)
    assert "Reason: We are growing" in body
    assert "Requested plan: Marketing Pro, 5,000 contacts, 1 user seat, monthly" in body
    assert "Your message:\nPlease move us to Pro." in body
    assert f"Reference: {request.id}" in body

    clock.advance(hours=1)
    requests.transition(svc, SUPPORT, request.id, "in_progress", message="Looking into it.")
    clock.advance(hours=1)
    requests.transition(svc, SUPPORT, request.id, "declined", message="Pro needs a call.")
    deliver(database, smtp_server, clock, renderer)

    subjects = [m.message["Subject"] for m in smtp_server.messages]
    assert subjects == ["Welcome: your Marketing Plus plan is active, invoice 2026-000001",
                        "We received your request",
                        "Your request is in progress", "Your request was declined"]
    assert "Note:\nPro needs a call." in text_of(smtp_server.messages[-1].message)
    assert all(m.rcpt_tos == ("ada@example.com",) for m in smtp_server.messages)


def test_request_emails_in_italian(svc, database, clock, smtp_server, renderer):
    account = sign_up(svc, config(currency="EUR"), email="anna@esempio.it", locale="it").account
    admin = user_actor(svc, "anna@esempio.it")
    request = requests.create(svc, admin, account.id, None, "interval_shorter",
                              "Vorremmo la fattura mensile.")
    requests.transition(svc, SUPPORT, request.id, "in_progress", message="Ci lavoriamo.")
    requests.transition(svc, SUPPORT, request.id, "completed", message="Fatto.")

    deliver(database, smtp_server, clock, renderer)

    # Written at the same instant, sent in the order they were written.
    assert [m.message["Subject"] for m in smtp_server.messages] == [
        "Il tuo piano Marketing Plus è attivo: fattura 2026-000001",
        "Abbiamo ricevuto la tua richiesta", "La tua richiesta è in lavorazione",
        "La tua richiesta è stata completata"]
    received = text_of(smtp_server.messages[1].message)
    assert "Il tuo messaggio:\nVorremmo la fattura mensile." in received
    assert "Motivo: Passare dalla fatturazione annuale a quella mensile" in received
    assert "Nota:\nFatto." in text_of(smtp_server.messages[3].message)


def test_usage_thresholds_are_emailed(svc, database, clock, smtp_server, renderer):
    account = sign_up(svc, config(currency="EUR"), email="anna@esempio.it", locale="it").account
    usage.report(svc, SUPPORT, account.id, 950, 1)  # 95 % of 1,000: 75 % and 90 %

    deliver(database, smtp_server, clock, renderer)

    warnings = [m.message for m in smtp_server.messages if "limite" in m.message["Subject"]]
    assert [m["Subject"] for m in warnings] == ["Hai usato il 95% del tuo limite di contatti"]
    assert "il tuo account ha 950 contatti: il 95% dei 1.000 inclusi nel tuo piano." in text_of(
        warnings[0])


def test_a_renewal_sends_a_receipt_and_a_failed_payment_a_warning(
        svc, database, clock, smtp_server, renderer):
    sign_up(svc)
    bea = sign_up(svc, email="bea@example.com", name="Bea's Shop").account
    accounts.update_card(svc, user_actor(svc, "bea@example.com"), bea.id, DECLINED_CARD)
    deliver(database, smtp_server, clock, renderer)
    smtp_server.messages.clear()

    clock.advance(days=30)  # 1 May 2026, 09:00: both periods ended at midnight
    renewal.run(svc)
    deliver(database, smtp_server, clock, renderer)

    by_recipient = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    receipt = by_recipient["ada@example.com"]
    number = receipt["Subject"].removeprefix("Receipt: your subscription renewed (invoice ")
    assert number in ("2026-000003)", "2026-000004)")  # renewals run in no set order
    assert "We charged $49.00 to your card on file." in text_of(receipt)
    text = pdf_text(attachments(receipt)[f"invoice-{number[:-1]}.pdf"][1])
    assert "Period May 1, 2026 – Jun 1, 2026" in text
    assert "Marketing Plus, 1,000 contacts, monthly $49.00" in text
    warning = by_recipient["bea@example.com"]
    other = "2026-000003" if number == "2026-000004)" else "2026-000004"
    assert warning["Subject"] == f"Payment failed: invoice {other} ($49.00)"
    assert (f"we could not charge $49.00 for invoice {other} to your card: the card was "
            "declined. This was attempt 1 of 4.") in text_of(warning)
    assert attachments(warning) == {}


def test_a_temporary_smtp_failure_is_retried_and_then_delivered_once(
        svc, database, clock, smtp_server, renderer):
    sign_up(svc)
    smtp_server.fail_data = True  # 451 at DATA

    deliver(database, smtp_server, clock, renderer)
    [row] = outbox_rows(database)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "451" in row["last_error"]
    assert row["next_attempt_at"] == clock.now() + timedelta(seconds=30)
    assert smtp_server.messages == []

    deliver(database, smtp_server, clock, renderer)  # not due yet: nothing happens
    assert outbox_rows(database)[0]["attempts"] == 1

    clock.advance(seconds=30)
    deliver(database, smtp_server, clock, renderer)  # still failing: backs off to 1 minute
    [row] = outbox_rows(database)
    assert (row["status"], row["attempts"]) == ("pending", 2)
    assert row["next_attempt_at"] == clock.now() + timedelta(minutes=1)

    smtp_server.fail_data = False
    clock.advance(minutes=1)
    deliver(database, smtp_server, clock, renderer)
    clock.advance(hours=1)
    deliver(database, smtp_server, clock, renderer)

    assert len(smtp_server.messages) == 1
    [row] = outbox_rows(database)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)


def test_a_permanent_refusal_is_not_retried(svc, database, clock, smtp_server, renderer):
    sign_up(svc)
    smtp_server.refused.add("ada@example.com")  # 550 at RCPT

    deliver(database, smtp_server, clock, renderer)
    clock.advance(days=1)
    deliver(database, smtp_server, clock, renderer)

    [row] = outbox_rows(database)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "550" in row["last_error"]
    assert smtp_server.messages == []


def test_a_notification_without_a_template_fails_at_once(database, clock, renderer):
    with database.transaction() as store:
        store.outbox.add_notification(Notification("ntf_odd", None, "x@example.com", "mystery",
                                                   "en", {}, clock.now()))
    mailer = RecordingMailer()

    report = deliver_notifications(database, mailer, renderer, clock.now())

    assert (report.done, report.retried, report.failed) == (0, 0, 1)
    [row] = outbox_rows(database)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "no email template for notification kind 'mystery'" in row["last_error"]
    assert mailer.attempts == 0


def test_temporary_failures_give_up_after_the_last_attempt(svc, database, clock, renderer):
    sign_up(svc)
    mailer = RecordingMailer()
    mailer.fail_next(MAX_EMAIL_ATTEMPTS)

    for _ in range(MAX_EMAIL_ATTEMPTS):
        deliver_notifications(database, mailer, renderer, clock.now())
        clock.advance(hours=6)

    [row] = outbox_rows(database)
    assert (row["status"], row["attempts"]) == ("failed", MAX_EMAIL_ATTEMPTS)
    assert row["last_error"].startswith(f"gave up after {MAX_EMAIL_ATTEMPTS} attempts")
    assert mailer.sent == []


def test_an_email_being_sent_is_neither_locked_nor_sent_twice(svc, database, clock, renderer):
    """While one worker talks to a slow SMTP server, the database stays free for others
    and a second worker does not pick up the same email."""
    sign_up(svc)
    nested: list[int] = []

    class SlowMailer(RecordingMailer):
        def send(self, email: Email) -> None:
            # Another worker's pass, and a change by someone else, during the send; with a
            # transaction held open here SQLite would wait (and PostgreSQL skip nothing).
            def other_worker() -> None:
                report = deliver_notifications(database, RecordingMailer(), renderer,
                                               clock.now())
                nested.append(report.claimed)
                sign_up(svc, email="bea@example.com")

            thread = threading.Thread(target=other_worker)
            thread.start()
            thread.join(timeout=20)
            assert not thread.is_alive()
            super().send(email)

    mailer = SlowMailer()
    report = deliver_notifications(database, mailer, renderer, clock.now())

    assert (report.done, nested) == (1, [0])
    assert [e.to for e in mailer.sent] == ["ada@example.com"]
    statuses = {r["payload"]["to"]: r["status"] for r in outbox_rows(database)}
    assert statuses == {"ada@example.com": "sent", "bea@example.com": "pending"}


@pytest.mark.parametrize("locale", ["en", "it"])
def test_every_kind_renders_in_both_languages(locale):
    from canone.integrations.email_templates import BUILDERS, render_email

    data = {"invoice_id": "inv_1", "number": "2026-000009", "total": 123456,
            "amount_paid": 0, "currency": "EUR", "status": "open", "request_id": "req_1",
            "reason": "r", "desired": None, "message": "m", "threshold": 100,
            "contacts": 1000, "limit": 1000, "amount": 4900, "attempt": 1, "attempts": 4,
            "next_attempt_on": "2026-05-03", "last_attempt_on": "2026-05-07",
            "restricted": "no", "target": None, "plan": None}
    debited = {**data, "bank_last4": "3001"}  # paid by SEPA Direct Debit
    for kind, given in [*((kind, debited) for kind in BUILDERS), ("payment_failed", data),
                        ("change_declined", data)]:
        email = render_email(kind, locale, "x@example.com", given, message_id="ntf_1")
        assert email.subject and email.text.strip() and email.html
        assert "{" not in email.text  # no unfilled placeholder
    money = "1.234,56 €" if locale == "it" else "€1,234.56"
    receipt = render_email("renewal_receipt", locale, "x@example.com", data)
    assert money in receipt.text.replace("\xa0", " ")


@pytest.mark.parametrize(("invoice_id", "subject"), [
    (None, "Your plan change was not applied: payment declined"),
    ("inv_1", "Payment failed: $49.00"),
])
def test_a_payment_failure_queued_by_an_older_version_still_reads_true(invoice_id, subject):
    from canone.integrations.email_templates import render_email

    data = {"amount": 4900, "currency": "USD", "reason": "declined", "message": "Declined",
            "invoice_id": invoice_id}
    email = render_email("payment_failed", "en", "x@example.com", data)
    assert email.subject == subject
    assert "we could not charge $49.00 to your card: the card was declined." in email.text
    assert "restricted" not in email.text


@pytest.mark.parametrize(("locale", "reason", "line"), [
    ("it", "Email to support", "Motivo: Email all'assistenza"),
    ("it", "tier_lower", "Motivo: Passare a un livello inferiore"),
    ("en", "tier_lower", "Reason: Move to a lower tier"),
    ("en", "Our own words", "Reason: Our own words"),
])
def test_request_reasons_are_named_in_the_recipients_language(locale, reason, line):
    from canone.integrations.email_templates import render_email

    data = {"request_id": "req_1", "status": "open", "reason": reason, "message": "",
            "desired": {"product": "bundle", "tier": "plus", "interval": "year",
                        "currency": "EUR", "contacts": 5000, "seats": 2,
                        "addons": ["dedicated_ip"]}}
    text = render_email("request_received", locale, "x@example.com", data).text
    assert line in text
    plan = ("Marketing e Sales Plus, 5.000 contatti, 2 postazioni utente, annuale, componenti "
            "aggiuntivi: IP dedicato" if locale == "it" else
            "Marketing + Sales Plus, 5,000 contacts, 2 user seats, yearly, add-ons: Dedicated IP")
    assert plan in text
