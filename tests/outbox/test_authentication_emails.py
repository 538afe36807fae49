"""The e-mails of an off-session payment whose bank wants the customer to authenticate
(SPEC §9), as they arrive at a real SMTP server, in English and Italian: the renewal asks
the primary admin to pay on the billing page; a retry day reminds instead of charging; a
plan change whose bank challenge failed on the page says so.
Stripe is localstripe (tests/localstripe_server.py answers such a charge as Stripe does)."""

from __future__ import annotations

import pytest

from canone.services import accounts, quotes, renewal
from canone.services.errors import PaymentActionRequired, PaymentFailed
from stripefixtures import LocalStripe

from .support import config, sign_up
from .test_emails import text_of, user_actor
from .test_payment_emails import EN_FOOTER, IT_FOOTER, deliver

VISA, THREE_D_SECURE = "4242424242424242", "4000002760003184"

EN = [
    ("Authenticate the payment of invoice 2026-000002 ($49.00)",
     "Hello,\n\n"
     "your bank asks you to authenticate the payment of $49.00 for invoice 2026-000002 "
     "(3-D Secure), which we cannot do for you: nothing was charged and we will not charge "
     "the card again without you.\n\n"
     "We will remind you on May 3, 2026. Your account stays active meanwhile; if the invoice "
     "is still unpaid on May 7, 2026, the account will be restricted (read-only except "
     "billing) until it is paid.\n\n"
     "Open the Billing & Upgrade page and pay the invoice there; your bank will ask you to "
     "confirm: http://127.0.0.1:8000/billing\n\n"),
    ("Reminder: pay invoice 2026-000002 ($49.00)",
     "We will remind you on May 5, 2026."),
]
IT = [
    ("Autorizza il pagamento della fattura 2026-000002 (49,00 €)",
     "Buongiorno,\n\n"
     "la tua banca chiede che tu autorizzi il pagamento di 49,00 € della fattura 2026-000002 "
     "(3-D Secure), cosa che non possiamo fare al posto tuo: non abbiamo addebitato nulla e "
     "non addebiteremo di nuovo la carta senza di te.\n\n"
     "Te lo ricorderemo il 3 maggio 2026. Nel frattempo il tuo account resta attivo; se la "
     "fattura non sarà ancora pagata il 7 maggio 2026, l'account sarà limitato (in sola "
     "lettura, tranne la fatturazione) finché non sarà pagata.\n\n"
     "Apri la pagina Fatturazione e upgrade e paga lì la fattura; la tua banca ti chiederà "
     "di confermare: http://127.0.0.1:8000/billing\n\n"),
    ("Promemoria: paga la fattura 2026-000002 (49,00 €)",
     "Te lo ricorderemo il 5 maggio 2026."),
]



@pytest.mark.parametrize("locale", ["en", "it"])
def test_the_admin_is_asked_to_pay_on_the_page_then_reminded(
        stripe_svc, database, clock, smtp_server, renderer, localstripe: LocalStripe, locale):
    plan = config(currency="USD" if locale == "en" else "EUR")
    account = sign_up(stripe_svc, plan, locale=locale, card=localstripe.card_method(VISA)).account
    admin = user_actor(stripe_svc, "ada@example.com")
    accounts.update_card(stripe_svc, admin, account.id, localstripe.card_method(THREE_D_SECURE))
    deliver(database, smtp_server, clock, renderer)
    (asked, body), (reminded, next_day) = EN if locale == "en" else IT
    footer = EN_FOOTER if locale == "en" else IT_FOOTER

    clock.advance(days=30)  # 1 May 2026: the renewal, off-session
    renewal.run(stripe_svc)
    [message] = deliver(database, smtp_server, clock, renderer)
    assert message["Subject"].replace("\xa0", " ") == asked
    assert text_of(message) == body + footer

    clock.advance(days=2)  # 3 May: the first retry day reminds, charges nothing
    renewal.run(stripe_svc)
    [reminder] = deliver(database, smtp_server, clock, renderer)
    assert reminder["Subject"].replace("\xa0", " ") == reminded
    assert next_day in text_of(reminder)
    assert len(localstripe.payment_intents()) == 2  # the sign-up's and the renewal's


@pytest.mark.parametrize(("locale", "subject", "why"), [
    ("en", "Your plan change was not applied: payment not authenticated",
     "we could not charge $10.00 to your card for the change to Marketing Plus, 2,500 "
     "contacts, 1 user seat, monthly: your bank could not authenticate the payment.\n\n"
     "Nothing was charged and your plan did not change: there is no invoice to pay and we "
     "will not try again.\n\n"
     "Make the change again on the Billing & Upgrade page, with this card or another: "
     "http://127.0.0.1:8000/billing\n\n"),
    ("it", "La modifica del piano non è stata applicata: pagamento non autenticato",
     "non siamo riusciti ad addebitare 10,00 € sulla tua carta per il passaggio a Marketing "
     "Plus, 2.500 contatti, 1 postazione utente, mensile: la tua banca non ha potuto "
     "autenticare il pagamento.\n\n"
     "Non abbiamo addebitato nulla e il tuo piano non è cambiato: non c'è nessuna fattura da "
     "pagare e non riproveremo.\n\n"
     "Ripeti la modifica nella pagina Fatturazione e upgrade, con questa carta o con "
     "un'altra: http://127.0.0.1:8000/billing\n\n"),
])
def test_a_change_whose_bank_challenge_failed_says_so(
        stripe_svc, database, clock, smtp_server, renderer, localstripe: LocalStripe, locale,
        subject, why):
    """On the page, the customer failed their bank's challenge (3-D Secure): the email says
    why nothing changed, not that the card was declined."""
    currency = "USD" if locale == "en" else "EUR"
    account = sign_up(stripe_svc, config(currency=currency), locale=locale,
                      card=localstripe.card_method(VISA)).account
    admin = user_actor(stripe_svc, "ada@example.com")
    accounts.update_card(stripe_svc, admin, account.id, localstripe.card_method(THREE_D_SECURE))
    clock.advance(days=15)  # half of April left: 2,500 contacts cost 10.00 more
    deliver(database, smtp_server, clock, renderer)
    quote = quotes.preview(stripe_svc, admin, account.id,
                           config(currency=currency, contacts=2500))
    assert quote.token is not None
    with pytest.raises(PaymentActionRequired) as asked:
        quotes.confirm(stripe_svc, admin, account.id, quote.token)
    localstripe.authenticate(asked.value.provider_id, asked.value.client_secret, False)
    with pytest.raises(PaymentFailed) as failed:
        quotes.confirm(stripe_svc, admin, account.id, quote.token)

    assert failed.value.decline_code == "authentication_failed"
    [message] = deliver(database, smtp_server, clock, renderer)
    assert message["Subject"] == subject
    assert why in text_of(message)
