"""The e-mails of an account paying by SEPA Direct Debit (SPEC §9), as they arrive at a real
SMTP server, in English and Italian: a plan change paid while the debit is processing (the
change is active, the debit on its way for up to 14 business days, debited again on its
retry days should it fail, SPEC §5); a renewal's debit that failed, before and after its
next retry day; a debit the bank returned. They speak of the bank account, never of a card.
Stripe is localstripe, whose debit from DE62370400440532013001 is processing, then fails;
the returned debit is a recorded dispute (localstripe has none)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from canone.billing.codec import config_to_json
from canone.integrations.email_templates import render_email
from canone.integrations.payments.stripe import StripeGateway
from canone.services import accounts, payments, quotes, renewal
from canone.services.access import Actor
from canone.services.context import Services
from canone.services.payment_methods import is_sepa
from canone.services.ports import PaymentEvent
from canone.services.provider_events import RECORDED, apply_payment_event
from canone.services.records import Account
from stripe_replay import StripeReplay
from stripefixtures import LocalStripe

from .support import config, sign_up
from .test_emails import text_of, user_actor
from .test_payment_emails import deliver

VISA, IBAN_PROCESSING = "4242424242424242", "DE62370400440532013001"
IBAN_SUCCEEDS = "DE89370400440532013000"

EN = ("Your purchase: invoice 2026-000002",
      "Hello,\n\n"
      "thank you for your purchase. Your plan is now Marketing Plus, 2,500 contacts, 1 user "
      "seat, monthly; invoice 2026-000002 for €10.00 is attached.\n\n"
      "Your change is active. The SEPA Direct Debit of €10.00 from your account ending 3001 "
      "is being processed; it takes up to 14 business days. If it fails, we will let you know "
      "by email and debit your account again on April 18, 2026, April 20, 2026 and April 22, "
      "2026; a day that has already passed when we learn of the failure is replaced by our "
      "next collection.\n\n")
IT = ("Il tuo acquisto: fattura 2026-000002",
      "Buongiorno,\n\n"
      "grazie per il tuo acquisto. Il tuo piano ora è Marketing Plus, 2.500 contatti, 1 "
      "postazione utente, mensile; in allegato trovi la fattura 2026-000002 di 10,00 €.\n\n"
      "La modifica è attiva. L'addebito diretto SEPA di 10,00 € sul tuo conto che termina "
      "con 3001 è in corso; richiede fino a 14 giorni lavorativi. Se non andrà a buon fine te "
      "lo comunicheremo via email e riproveremo l'addebito il 18 aprile 2026, 20 aprile 2026 e "
      "22 aprile 2026; un giorno già passato quando veniamo a sapere del mancato addebito è "
      "sostituito dalla riscossione successiva.\n\n")

FOOTERS = {
    "en": "— canone billing\n\nAccount: Ada's Shop · plan: Marketing Plus, 2,500 contacts, 1 "
          "user seat, monthly\nBilling & Upgrade: http://127.0.0.1:8000/billing\n",
    "it": "— Fatturazione canone\n\nAccount: Ada's Shop · piano: Marketing Plus, 2.500 "
          "contatti, 1 postazione utente, mensile\nFatturazione e upgrade: "
          "http://127.0.0.1:8000/billing\n",
}


def paying_by_debit(svc: Services, localstripe: LocalStripe, locale: str,
                    iban: str) -> tuple[Account, Actor]:
    """An EUR account signed up with a card that then saves a bank account, and its admin."""
    account = sign_up(svc, config(currency="EUR"), locale=locale,
                      card=localstripe.card_method(VISA)).account
    admin = user_actor(svc, "ada@example.com")
    accounts.update_card(svc, admin, account.id, localstripe.sepa_method(iban))
    return account, admin


@pytest.mark.parametrize("locale", ["en", "it"])
def test_a_change_paid_by_a_debit_processing_says_what_happens_next(
        stripe_svc, database, clock, smtp_server, renderer, localstripe: LocalStripe, locale):
    account, admin = paying_by_debit(stripe_svc, localstripe, locale, IBAN_PROCESSING)
    clock.advance(days=15)  # half of April left: 2,500 contacts cost €10.00 more
    deliver(database, smtp_server, clock, renderer)

    quote = quotes.preview(stripe_svc, admin, account.id, config(currency="EUR", contacts=2500))
    assert quote.token is not None
    done = quotes.confirm(stripe_svc, admin, account.id, quote.token)
    assert done.invoice is not None and done.invoice.status == "open"  # the debit's on its way
    [message] = deliver(database, smtp_server, clock, renderer)

    subject, body = EN if locale == "en" else IT
    assert message["Subject"] == subject
    assert text_of(message) == body + FOOTERS[locale]


def debit_fails(localstripe: LocalStripe, svc, clock, at: datetime) -> None:
    """localstripe fails a processing debit about half a second after it was made; canone
    learns of it at `at`, when reconciliation retrieves it."""
    deadline = time.monotonic() + 10
    while any(i["status"] == "processing" for i in localstripe.payment_intents()) and (
            time.monotonic() < deadline):
        time.sleep(0.1)
    clock.set(at)
    assert payments.reconcile(svc, older_than=timedelta(minutes=5)) == 1


PAY = {
    "en": "You can change the bank account, or pay by card instead, on the Billing & Upgrade "
          "page; we then collect the invoice from the new payment method at once: "
          "http://127.0.0.1:8000/billing\n\n",
    "it": "Puoi cambiare il conto bancario, o pagare con una carta, nella pagina Fatturazione "
          "e upgrade; addebiteremo subito la fattura sul nuovo metodo di pagamento: "
          "http://127.0.0.1:8000/billing\n\n",
}
FAILED = {
    "en": ("Payment failed: invoice 2026-000002 (€49.00)",
           "Hello,\n\n"
           "the SEPA Direct Debit of €49.00 for invoice 2026-000002 from your account ending "
           "3001 failed{why} This was attempt {n} of 4.\n\n"
           "We will debit your account again {when}. Your account stays active meanwhile; if "
           "the last debit, on May 7, 2026, fails too, the account will be restricted "
           "(read-only except billing) until the invoice is paid.\n\n"),
    "it": ("Pagamento non riuscito: fattura 2026-000002 (49,00 €)",
           "Buongiorno,\n\n"
           "l'addebito diretto SEPA di 49,00 € della fattura 2026-000002 sul tuo conto che "
           "termina con 3001 non è andato a buon fine{why} Era il tentativo {n} di 4.\n\n"
           "Riproveremo l'addebito sul tuo conto {when}. Nel frattempo il tuo account resta "
           "attivo; se anche l'ultimo addebito, il 7 maggio 2026, non andrà a buon fine, "
           "l'account sarà limitato (in sola lettura, tranne la fatturazione) finché la "
           "fattura non sarà pagata.\n\n"),
}
WHEN = {"en": ("on May 3, 2026", "with our next collection, as its day has passed"),
        "it": ("il 3 maggio 2026",
               "con la prossima riscossione, perché il giorno previsto è passato")}
PLAN_FOOTERS = {locale: footer.replace("2,500", "1,000").replace("2.500", "1.000")
                for locale, footer in FOOTERS.items()}


@pytest.mark.parametrize("locale", ["en", "it"])
def test_a_renewal_debit_that_fails_speaks_of_the_bank_account_and_the_next_debit(
        stripe_svc, database, clock, smtp_server, renderer, localstripe: LocalStripe, locale):
    account, _ = paying_by_debit(stripe_svc, localstripe, locale, IBAN_PROCESSING)
    with stripe_svc.database.read() as store:
        saved = store.accounts.get(account.id)
    assert saved is not None and saved.card is not None
    assert (saved.card.kind, saved.card.last4, is_sepa(saved.card)) == ("sepa_debit", "3001", True)
    clock.set(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    deliver(database, smtp_server, clock, renderer)

    renewal.run(stripe_svc)  # the renewal's debit is processing: no email yet
    assert deliver(database, smtp_server, clock, renderer) == []
    debit_fails(localstripe, stripe_svc, clock, datetime(2026, 5, 1, 9, 10, tzinfo=UTC))
    [first] = deliver(database, smtp_server, clock, renderer)
    clock.set(datetime(2026, 5, 3, 9, 0, tzinfo=UTC))
    renewal.run(stripe_svc)  # day 3: a new debit, whose failure is learnt after day 5
    debit_fails(localstripe, stripe_svc, clock, datetime(2026, 5, 6, 9, 0, tzinfo=UTC))
    [second] = deliver(database, smtp_server, clock, renderer)

    subject, body = FAILED[locale]
    why = "."  # localstripe's failed debit says no reason
    for n, message in ((1, first), (2, second)):
        assert message["Subject"].replace("\xa0", " ") == subject
        assert text_of(message) == body.format(why=why, n=n, when=WHEN[locale][n - 1]) + (
            PAY[locale] + PLAN_FOOTERS[locale])


RETURNED = {
    "en": ("SEPA Direct Debit returned: invoice 2026-000001 (€49.00) is unpaid",
           "Hello,\n\n"
           "your bank returned the SEPA Direct Debit of €49.00 for invoice 2026-000001 from "
           "your account ending 3000, so the invoice is unpaid again. We will debit your "
           "account again on April 3, 2026. Your account stays active meanwhile.\n\n"),
    "it": ("Addebito SEPA stornato: la fattura 2026-000001 (49,00 €) non è pagata",
           "Buongiorno,\n\n"
           "la tua banca ha stornato l'addebito diretto SEPA di 49,00 € della fattura "
           "2026-000001 sul tuo conto che termina con 3000: la fattura risulta di nuovo da "
           "pagare. Riproveremo l'addebito sul tuo conto il 3 aprile 2026. Nel frattempo il "
           "tuo account resta attivo.\n\n"),
}
DISPUTE = PaymentEvent("evt_1QmT9hLkdIwHu7ixDsp00001", "charge.dispute.created",
                       "du_1QmT9hLkdIwHu7ixDsp00002", "dispute", 1796400500, None)


@pytest.mark.parametrize("locale", ["en", "it"])
def test_a_returned_debit_says_the_invoice_is_unpaid_and_when_it_is_debited_again(
        svc, database, clock, smtp_server, renderer, locale):
    signed = sign_up(svc, config(currency="EUR"), locale=locale)
    with database.read() as store:
        (paid,) = store.payments.of_account(signed.account.id)
        intent = store.payments.get_intent(paid.idempotency_key)
    assert intent is not None
    deliver(database, smtp_server, clock, renderer)
    values = {"{intent_key}": intent.key, "{card_token}": intent.card_token,
              "{method_type}": "sepa_debit"}
    with StripeReplay("dispute_retrieved", values) as replay:
        stripe = replace(svc, gateway=StripeGateway("sk_test_recorded", api_base=replay.base,
                                                    network_retries=0))
        assert apply_payment_event(stripe, DISPUTE) == RECORDED
    [message] = deliver(database, smtp_server, clock, renderer)

    subject, body = RETURNED[locale]
    assert message["Subject"].replace("\xa0", " ") == subject
    assert text_of(message) == body + PAY[locale] + PLAN_FOOTERS[locale]


@pytest.mark.parametrize(("locale", "reason", "message", "said"), [
    ("en", "declined", "The customer's bank account has insufficient funds to cover this "
     "payment.", "failed: The customer's bank account has insufficient funds to cover this "
     "payment. This"),
    ("it", "insufficient_funds", "", "non è andato a buon fine: fondi insufficienti. Era"),
    ("en", "declined", "Your card was declined.", "3001 failed. This"),  # not a card's
])
def test_a_failed_debit_gives_stripe_s_reason_unless_it_speaks_of_a_card(
        locale, reason, message, said):
    data = {"amount": 4900, "currency": "EUR", "reason": reason, "message": message,
            "invoice_id": "inv_1", "number": "2026-000002", "attempt": 1, "attempts": 4,
            "next_attempt_on": "2026-05-03", "last_attempt_on": "2026-05-07",
            "restricted": "no", "overdue": False, "bank_last4": "3001"}
    failed = render_email("payment_failed", locale, "ada@example.com", data).text.split(
        "\n\n")[1]
    assert said in failed and "card" not in failed.lower() and "carta" not in failed


@pytest.mark.parametrize(("locale", "said"), [
    ("en", "We collected €49.00 by SEPA Direct Debit from your account ending 3000."),
    ("it", "Abbiamo riscosso 49,00 € con addebito diretto SEPA sul tuo conto che termina con "
           "3000."),
])
def test_a_renewal_paid_by_debit_is_receipted_as_a_debit(
        stripe_svc, database, clock, smtp_server, renderer, localstripe: LocalStripe, locale,
        said):
    paying_by_debit(stripe_svc, localstripe, locale, IBAN_SUCCEEDS)
    clock.set(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    deliver(database, smtp_server, clock, renderer)

    renewal.run(stripe_svc)
    [receipt] = deliver(database, smtp_server, clock, renderer)

    paragraphs = text_of(receipt).replace("\xa0", " ").split("\n\n")
    assert said in paragraphs and not any("card" in p or "carta" in p for p in paragraphs)


@pytest.mark.parametrize(("locale", "subject", "body"), [
    ("en", "Your plan change was not applied: SEPA Direct Debit refused",
     "Hello,\n\n"
     "the SEPA Direct Debit of €10.00 for the change to Marketing Plus, 2,500 contacts, 1 user "
     "seat, monthly from your account ending 3001 was refused: insufficient funds.\n\n"
     "Nothing was debited and your plan did not change: there is no invoice to pay and we "
     "will not try again.\n\n"
     "You can change the bank account, or pay by card instead, on the Billing & Upgrade page, "
     "then make the change again: http://127.0.0.1:8000/billing\n\n"),
    ("it", "La modifica del piano non è stata applicata: addebito SEPA rifiutato",
     "Buongiorno,\n\n"
     "l'addebito diretto SEPA di 10,00 € per il passaggio a Marketing Plus, 2.500 contatti, 1 "
     "postazione utente, mensile sul tuo conto che termina con 3001 è stato rifiutato: fondi "
     "insufficienti.\n\n"
     "Non abbiamo addebitato nulla e il tuo piano non è cambiato: non c'è nessuna fattura da "
     "pagare e non riproveremo.\n\n"
     "Puoi cambiare il conto bancario, o pagare con una carta, nella pagina Fatturazione e "
     "upgrade, poi ripetere la modifica: http://127.0.0.1:8000/billing\n\n"),
])
def test_a_change_whose_debit_is_refused_at_once_says_nothing_changed(locale, subject, body):
    # localstripe does not refuse a debit when it is made: the email is rendered alone.
    data = {"amount": 1000, "currency": "EUR", "reason": "insufficient_funds", "message": "",
            "invoice_id": None, "bank_last4": "3001",
            "target": config_to_json(config(currency="EUR", contacts=2500))}
    email = render_email("change_declined", locale, "ada@example.com", data)
    assert email.subject == subject
    assert email.text.replace("\xa0", " ").startswith(body)


def test_a_returned_debit_on_a_restricted_account_does_not_say_it_stays_active():
    data = {"number": "2026-000001", "amount": 4900, "currency": "EUR", "bank_last4": "3000",
            "restricted": "still", "next_attempt_on": "2026-04-03"}
    returned = render_email("debit_returned", "en", "ada@example.com", data).text
    assert ("We will debit your account again on April 3, 2026. Your account stays restricted "
            "(read-only except billing) until your invoices are paid.\n\n") in returned
    assert "active" not in returned
