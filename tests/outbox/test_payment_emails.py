"""What the emails about failed payments say, read as they arrived at a real SMTP server:
each renewal attempt tells the truth of its moment (SPEC §5: retries on days 3, 5 and 7,
then the account is restricted), and a declined plan change is not a failed invoice."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from canone.db.database import Database
from canone.integrations.invoice_pdf import PdfInvoiceRenderer
from canone.integrations.mail import SmtpMailer
from canone.integrations.outbox import deliver_notifications
from canone.services import accounts, invoices, quotes, renewal, usage
from canone.services.access import STAFF, Actor
from canone.services.context import Services
from canone.services.errors import PaymentFailed
from canone.services.ports import Card
from clocks import TestClock
from integrations.smtp_server import SmtpTestServer

from .support import GOOD_CARD, config, sign_up
from .test_emails import attachments, text_of, user_actor

DECLINED_CARD = Card("4000000000000002", 12, 2035, "123")
SUPPORT = Actor(STAFF, "staff:sam@canone.example")

EN_FOOTER = ("— canone billing\n\n"
             "Account: Ada's Shop · plan: Marketing Plus, 1,000 contacts, 1 user seat, monthly\n"
             "Billing & Upgrade: http://127.0.0.1:8000/billing\n")
IT_FOOTER = ("— Fatturazione canone\n\n"
             "Account: Ada's Shop · piano: Marketing Plus, 1.000 contatti, 1 postazione utente, "
             "mensile\n"
             "Fatturazione e upgrade: http://127.0.0.1:8000/billing\n")

EN_ATTEMPTS = [
    ("Payment failed: invoice 2026-000002 ($49.00)",
     "we could not charge $49.00 for invoice 2026-000002 to your card: the card was declined. "
     "This was attempt {n} of 4.\n\n"
     "We will try your card again on {next}. Your account stays active meanwhile; if the "
     "invoice is still unpaid after the last try, on May 7, 2026, the account will be "
     "restricted (read-only except billing) until it is paid.\n\n"
     "Update your card on the Billing & Upgrade page and we charge it at once: "
     "http://127.0.0.1:8000/billing"),
    ("Payment failed: invoice 2026-000002 ($49.00)",
     "we could not charge $49.00 for invoice 2026-000002 to your card: the card was declined. "
     "This was attempt 3 of 4.\n\n"
     "We will try your card one last time on May 7, 2026. Your account stays active "
     "meanwhile; if that try fails too, the account will be restricted (read-only except "
     "billing) until the invoice is paid.\n\n"
     "Update your card on the Billing & Upgrade page and we charge it at once: "
     "http://127.0.0.1:8000/billing"),
    ("Account restricted: invoice 2026-000002 ($49.00) is unpaid",
     "we could not charge $49.00 for invoice 2026-000002 to your card: the card was declined. "
     "This was the last of 4 attempts: we will not try again automatically.\n\n"
     "Your account is restricted from now on: read-only except billing, until the invoice "
     "is paid.\n\n"
     "Update your card on the Billing & Upgrade page and we charge it at once, which lifts the "
     "restriction: http://127.0.0.1:8000/billing"),
]
IT_ATTEMPTS = [
    ("Pagamento non riuscito: fattura 2026-000002 (49,00 €)",
     "non siamo riusciti ad addebitare sulla tua carta 49,00 € della fattura 2026-000002: la "
     "carta è stata rifiutata. Era il tentativo {n} di 4.\n\n"
     "Riproveremo ad addebitare la carta il {next}. Nel frattempo il tuo account resta attivo; "
     "se la fattura non sarà pagata neanche all'ultimo tentativo, il 7 maggio 2026, l'account "
     "sarà limitato (in sola lettura, tranne la fatturazione) finché non sarà pagata.\n\n"
     "Aggiorna la carta nella pagina Fatturazione e upgrade: la addebitiamo subito: "
     "http://127.0.0.1:8000/billing"),
    ("Pagamento non riuscito: fattura 2026-000002 (49,00 €)",
     "non siamo riusciti ad addebitare sulla tua carta 49,00 € della fattura 2026-000002: la "
     "carta è stata rifiutata. Era il tentativo 3 di 4.\n\n"
     "Riproveremo ad addebitare la carta un'ultima volta il 7 maggio 2026. Nel frattempo il "
     "tuo account resta attivo; se anche quel tentativo non andrà a buon fine, l'account sarà "
     "limitato (in sola lettura, tranne la fatturazione) finché la fattura non sarà pagata."
     "\n\n"
     "Aggiorna la carta nella pagina Fatturazione e upgrade: la addebitiamo subito: "
     "http://127.0.0.1:8000/billing"),
    ("Account limitato: la fattura 2026-000002 (49,00 €) non è pagata",
     "non siamo riusciti ad addebitare sulla tua carta 49,00 € della fattura 2026-000002: la "
     "carta è stata rifiutata. Era l'ultimo dei 4 tentativi: non riproveremo "
     "automaticamente.\n\n"
     "Da ora il tuo account è limitato: in sola lettura, tranne la fatturazione, finché la "
     "fattura non sarà pagata.\n\n"
     "Aggiorna la carta nella pagina Fatturazione e upgrade: la addebitiamo subito e la "
     "limitazione si toglie: http://127.0.0.1:8000/billing"),
]
NEXT = {"en": ["May 3, 2026", "May 5, 2026"], "it": ["3 maggio 2026", "5 maggio 2026"]}


def deliver(database: Database, smtp: SmtpTestServer, clock: TestClock,
            renderer: PdfInvoiceRenderer) -> list[EmailMessage]:
    smtp.messages.clear()
    deliver_notifications(database, SmtpMailer(smtp.url), renderer, clock.now())
    return [received.message for received in smtp.messages]


def restricted(svc: Services, account_id: str) -> bool:
    return usage.entitlements(svc, SUPPORT, account_id).restricted


@pytest.mark.parametrize("locale", ["en", "it"])
def test_each_renewal_attempt_says_what_is_true_then(
        svc, database, clock, smtp_server, renderer, locale):
    email = "ada@example.com"
    plan = config(currency="USD" if locale == "en" else "EUR")
    account = sign_up(svc, plan, email=email, locale=locale).account
    admin = user_actor(svc, email)
    accounts.update_card(svc, admin, account.id, DECLINED_CARD)
    deliver(database, smtp_server, clock, renderer)
    attempts, footer = (EN_ATTEMPTS, EN_FOOTER) if locale == "en" else (IT_ATTEMPTS, IT_FOOTER)
    hello = "Hello,\n\n" if locale == "en" else "Buongiorno,\n\n"

    clock.advance(days=30)  # 1 May 2026, 09:00 UTC: the period ended at midnight
    for n in (1, 2, 3, 4):
        renewal.run(svc)  # the renewal, then the retries of days 3, 5 and 7
        [message] = deliver(database, smtp_server, clock, renderer)
        subject, body = attempts[max(0, n - 2)]  # 1 and 2 alike; 3 (next is last); 4
        assert message["Subject"].replace("\xa0", " ") == subject
        assert text_of(message) == hello + body.format(
            n=n, next=NEXT[locale][n - 1] if n < 3 else "") + "\n\n" + footer
        assert message["Auto-Submitted"] == "auto-generated"
        assert restricted(svc, account.id) == (n == 4)  # active until the last try failed
        clock.advance(days=2)

    accounts.update_card(svc, admin, account.id, GOOD_CARD)
    [receipt] = deliver(database, smtp_server, clock, renderer)
    assert not restricted(svc, account.id)
    lifted = ("The invoice is paid: your account is no longer restricted." if locale == "en"
              else "La fattura è pagata: il tuo account non è più limitato.")
    assert lifted in text_of(receipt)
    name = "invoice" if locale == "en" else "fattura"
    assert list(attachments(receipt)) == [f"{name}-2026-000002.pdf"]


def test_a_failure_after_the_account_is_restricted_says_it_stays_restricted(
        svc, database, clock, smtp_server, renderer):
    account = sign_up(svc).account
    admin = user_actor(svc, "ada@example.com")
    accounts.update_card(svc, admin, account.id, DECLINED_CARD)
    clock.advance(days=30)
    for _ in range(4):
        renewal.run(svc)
        clock.advance(days=2)
    deliver(database, smtp_server, clock, renderer)

    accounts.update_card(svc, admin, account.id, Card("4000000000009995", 12, 2035, "123"))
    [message] = deliver(database, smtp_server, clock, renderer)

    assert message["Subject"] == "Payment failed: invoice 2026-000002 ($49.00) is still unpaid"
    assert text_of(message).startswith(
        "Hello,\n\nwe could not charge $49.00 for invoice 2026-000002 to your card: "
        "insufficient funds.\n\n"
        "Your account stays restricted (read-only except billing) until the invoice is paid."
        "\n\n")
    assert restricted(svc, account.id)


@pytest.mark.parametrize(("locale", "subject", "body"), [
    ("en", "Your plan change was not applied: payment declined",
     "Hello,\n\n"
     "we could not charge $10.00 to your card for the change to Marketing Plus, 2,500 "
     "contacts, 1 user seat, monthly: the card was declined.\n\n"
     "Nothing was charged and your plan did not change: there is no invoice to pay and we "
     "will not try again.\n\n"
     "Update your card on the Billing & Upgrade page, then make the change again: "
     "http://127.0.0.1:8000/billing\n\n" + EN_FOOTER),
    ("it", "La modifica del piano non è stata applicata: pagamento rifiutato",
     "Buongiorno,\n\n"
     "non siamo riusciti ad addebitare 10,00 € sulla tua carta per il passaggio a Marketing "
     "Plus, 2.500 contatti, 1 postazione utente, mensile: la carta è stata rifiutata.\n\n"
     "Non abbiamo addebitato nulla e il tuo piano non è cambiato: non c'è nessuna fattura da "
     "pagare e non riproveremo.\n\n"
     "Aggiorna la carta nella pagina Fatturazione e upgrade, poi ripeti la modifica: "
     "http://127.0.0.1:8000/billing\n\n" + IT_FOOTER),
])
def test_a_declined_plan_change_says_nothing_changed_and_nothing_will_be_retried(
        svc, database, clock, smtp_server, renderer, locale, subject, body):
    currency = "USD" if locale == "en" else "EUR"
    account = sign_up(svc, config(currency=currency), locale=locale).account
    admin = user_actor(svc, "ada@example.com")
    accounts.update_card(svc, admin, account.id, DECLINED_CARD)
    clock.advance(days=15)  # half of April left: 2,500 contacts cost $10.00 more
    deliver(database, smtp_server, clock, renderer)

    quote = quotes.preview(svc, admin, account.id, config(currency=currency, contacts=2500))
    assert quote.token is not None
    with pytest.raises(PaymentFailed):
        quotes.confirm(svc, admin, account.id, quote.token)
    [message] = deliver(database, smtp_server, clock, renderer)

    assert message["Subject"].replace("\xa0", " ") == subject
    assert text_of(message) == body
    assert [i.kind for i in invoices.invoices_of(svc, admin, account.id)] == ["signup"]


CHANGE = {"amount": 1000, "currency": "EUR", "last4": "4242",
          "message": "The charge never reached the card network."}


@pytest.mark.parametrize(("reason", "language", "subject", "why", "what_now"), [
    ("failed", "en", "Your plan change was not applied: payment not made",
     "we could not charge €10.00 to your card: the payment never reached the card network.",
     "Make the change again on the Billing & Upgrade page: "),
    ("failed", "it", "La modifica del piano non è stata applicata: pagamento non eseguito",
     "non siamo riusciti ad addebitare 10,00 € sulla tua carta: il pagamento non ha mai "
     "raggiunto il circuito della carta.",
     "Ripeti la modifica nella pagina Fatturazione e upgrade: "),
    ("canceled", "it", "La modifica del piano non è stata applicata: pagamento annullato",
     "non siamo riusciti ad addebitare 10,00 € sulla tua carta: il pagamento è stato "
     "annullato prima dell'addebito.",
     "Ripeti la modifica nella pagina Fatturazione e upgrade: "),
])
def test_a_change_whose_payment_was_never_taken_says_so_in_its_language(
        reason, language, subject, why, what_now) -> None:
    # Reconciliation settles an intent that never reached the network (a crash before the
    # charge) or that was cancelled there: the card was not refused, and the provider's
    # English message is not what an Italian customer reads.
    from canone.integrations.email_templates import message_for

    told = message_for("change_declined", language, {**CHANGE, "reason": reason})

    assert told.subject.replace("\xa0", " ") == subject
    assert told.paragraphs[1].replace("\xa0", " ") == why
    assert told.paragraphs[3] == what_now + "http://127.0.0.1:8000/billing"
