"""The e-mail of a plan change paid by SEPA Direct Debit while the debit is processing
(SPEC §9), as it arrives at a real SMTP server, in English and Italian: the change is
active, the debit is on its way for up to 14 business days, and should it fail the invoice
is debited again on its retry days (SPEC §5). Stripe is localstripe, whose debit from
DE62370400440532013001 is processing (then fails, after these emails)."""

from __future__ import annotations

import pytest

from canone.services import accounts, quotes
from stripefixtures import LocalStripe

from .support import config, sign_up
from .test_emails import text_of, user_actor
from .test_payment_emails import deliver

VISA, IBAN_PROCESSING = "4242424242424242", "DE62370400440532013001"

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



@pytest.mark.parametrize("locale", ["en", "it"])
def test_a_change_paid_by_a_debit_processing_says_what_happens_next(
        stripe_svc, database, clock, smtp_server, renderer, localstripe: LocalStripe, locale):
    account = sign_up(stripe_svc, config(currency="EUR"), locale=locale,
                      card=localstripe.card_method(VISA)).account
    admin = user_actor(stripe_svc, "ada@example.com")
    accounts.update_card(stripe_svc, admin, account.id, localstripe.sepa_method(IBAN_PROCESSING))
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
