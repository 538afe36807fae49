"""A SEPA debit the bank returns weeks after the invoice was issued makes the invoice unpaid
again and starts the retry schedule (SPEC §9): its retries come on days 3, 5 and 7 counted
from the return (SPEC §5), one at a time, never all at once because the issue's days are
past; and each failure's email names those days, as it arrived at a real SMTP server, in
English and Italian. The return is a recorded dispute (localstripe has none); the later
retries are charged to a card the customer saved meanwhile, which the sandbox declines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

import stored
from canone.db.database import Database
from canone.integrations.email_templates import render_email
from canone.integrations.payments.stripe import StripeGateway
from canone.services import accounts, renewal
from canone.services.context import Services
from canone.services.ports import PaymentEvent
from canone.services.provider_events import RECORDED, apply_payment_event
from clocks import TestClock
from stripe_replay import StripeReplay

from .support import GOOD_CARD, config, sign_up
from .test_emails import text_of, user_actor
from .test_payment_emails import (
    DECLINED_CARD,
    EN_ATTEMPTS,
    EN_FOOTER,
    IT_ATTEMPTS,
    IT_FOOTER,
    deliver,
    restricted,
)

DISPUTE = PaymentEvent("evt_1QmT9hLkdIwHu7ixDsp00001", "charge.dispute.created",
                       "du_1QmT9hLkdIwHu7ixDsp00002", "dispute", 1796400500, None)


def return_debit(svc: Services, database: Database, account_id: str) -> None:
    """The bank returns the account's latest SEPA debit, now."""
    paid = [p for p in stored.payments(svc, account_id) if p.amount > 0][-1]
    with database.read() as store:
        intent = store.payments.get_intent(paid.idempotency_key)
    assert intent is not None
    values = {"{intent_key}": intent.key, "{card_token}": intent.card_token,
              "{method_type}": "sepa_debit"}
    with StripeReplay("dispute_retrieved", values) as replay:
        stripe = replace(svc, gateway=StripeGateway("sk_test_recorded", api_base=replay.base,
                                                    network_retries=0))
        assert apply_payment_event(stripe, DISPUTE) == RECORDED


def day(n: int, month: int = 4) -> datetime:
    return datetime(2026, month, n, 9, 0, tzinfo=UTC)


def runs_on(svc: Services, clock: TestClock, account_id: str,
            at: datetime) -> list[tuple[int, datetime | None]]:
    """The billing run at `at`, twice (nothing else is due after the first): the attempts
    and the next attempt of the account's latest invoice after each."""
    clock.set(at)
    seen = []
    for _ in range(2):
        renewal.run(svc)
        invoice = stored.invoices(svc, account_id)[-1]
        seen.append((invoice.attempts, invoice.next_attempt_at))
    return seen


# The days named by each failure's email: (next retry, last retry), from the return on 20 April.
DAYS = {"en": ("April 24, 2026", "April 26, 2026"), "it": ("24 aprile 2026", "26 aprile 2026")}
RENEWAL_DAYS = {"en": ("May 7, 2026", "$49.00"), "it": ("7 maggio 2026", "49,00 €")}


def expected(locale: str, n: int) -> tuple[str, str]:
    """The email of failed attempt `n`: a renewal's (tests/outbox/test_payment_emails.py),
    for this invoice, in euros, with the days of the restarted schedule."""
    subject, body = (EN_ATTEMPTS if locale == "en" else IT_ATTEMPTS)[max(0, n - 2)]
    renewal_last, amount = RENEWAL_DAYS[locale]
    hello, footer = ("Hello,\n\n", EN_FOOTER) if locale == "en" else ("Buongiorno,\n\n",
                                                                      IT_FOOTER)
    text = hello + body.format(n=n, next=DAYS[locale][0]) + "\n\n" + footer
    fix = (("2026-000002", "2026-000001"), (amount, "€49.00" if locale == "en" else amount),
           (renewal_last, DAYS[locale][1]))
    for old, new in fix:
        subject, text = subject.replace(old, new), text.replace(old, new)
    return subject, text


@pytest.mark.parametrize("locale", ["en", "it"])
def test_the_retries_after_a_returned_debit_restart_from_the_return(
        svc, database, clock, smtp_server, renderer, locale):
    account = sign_up(svc, config(currency="EUR"), locale=locale).account
    clock.set(day(19))  # the customer saves a card, which will be declined
    accounts.update_card(svc, user_actor(svc, "ada@example.com"), account.id, DECLINED_CARD)
    clock.set(day(20))  # the bank returns the sign-up's debit: retries on 22, 24 and 26 April
    return_debit(svc, database, account.id)
    deliver(database, smtp_server, clock, renderer)

    assert runs_on(svc, clock, account.id, day(21)) == [(1, day(22))] * 2  # not due yet
    assert runs_on(svc, clock, account.id, day(22)) == [(2, day(24))] * 2
    [second] = deliver(database, smtp_server, clock, renderer)
    assert runs_on(svc, clock, account.id, day(23)) == [(2, day(24))] * 2
    assert runs_on(svc, clock, account.id, day(24)) == [(3, day(26))] * 2
    [third] = deliver(database, smtp_server, clock, renderer)
    assert not restricted(svc, account.id)
    assert runs_on(svc, clock, account.id, day(26)) == [(4, None)] * 2
    [last] = deliver(database, smtp_server, clock, renderer)
    assert restricted(svc, account.id)

    for n, message in ((2, second), (3, third), (4, last)):
        subject, text = expected(locale, n)
        assert message["Subject"].replace("\xa0", " ") == subject
        assert text_of(message) == text


def test_a_debit_paid_on_a_retry_then_returned_is_collected_with_a_new_attempt(
        svc, database, clock, smtp_server, renderer):
    """Paid on its second attempt, returned: the next attempt is a new intent (reusing the
    paid one's key would stop every billing run), on the schedule restarted at the return."""
    account = sign_up(svc, config(currency="EUR")).account
    admin = user_actor(svc, "ada@example.com")
    accounts.update_card(svc, admin, account.id, DECLINED_CARD)
    clock.set(day(1, 5))
    renewal.run(svc)  # the renewal's first attempt is declined
    accounts.update_card(svc, admin, account.id, GOOD_CARD)  # its second is paid at once
    accounts.update_card(svc, admin, account.id, DECLINED_CARD)
    clock.set(day(10, 5))
    return_debit(svc, database, account.id)
    deliver(database, smtp_server, clock, renderer)

    assert runs_on(svc, clock, account.id, day(12, 5)) == [(3, day(14, 5))] * 2
    [message] = deliver(database, smtp_server, clock, renderer)
    assert "This was attempt 2 of 4." in text_of(message)
    assert runs_on(svc, clock, account.id, day(14, 5)) == [(4, day(16, 5))] * 2
    assert not restricted(svc, account.id)
    assert runs_on(svc, clock, account.id, day(16, 5)) == [(5, None)] * 2
    assert restricted(svc, account.id)


CARD_LATE = {
    "en": "We will try your card again with our next collection, as its day has passed. Your "
          "account stays active meanwhile; if the invoice is still unpaid after the last try, "
          "on May 7, 2026, the account will be restricted (read-only except billing) until it "
          "is paid.",
    "it": "Riproveremo ad addebitare la carta con la prossima riscossione, perché il giorno "
          "previsto è passato. Nel frattempo il tuo account resta attivo; se la fattura non "
          "sarà pagata neanche all'ultimo tentativo, il 7 maggio 2026, l'account sarà limitato "
          "(in sola lettura, tranne la fatturazione) finché non sarà pagata.",
}


@pytest.mark.parametrize("locale", ["en", "it"])
def test_a_card_failure_learnt_after_its_retry_day_names_no_past_day(locale):
    data = {"amount": 4900, "currency": "EUR", "number": "2026-000002", "attempt": 2,
            "attempts": 4, "restricted": "no", "overdue": True, "reason": "card_declined",
            "next_attempt_on": "2026-05-05", "last_attempt_on": "2026-05-07"}
    text = render_email("payment_failed", locale, "ada@example.com", data).text
    assert CARD_LATE[locale] in text
    assert "May 5" not in text and "5 maggio" not in text
