"""A dispute (SPEC §9: charge.dispute.created), against recorded Stripe responses (localstripe
has no disputes, tests/integrations/stripe_recordings/dispute_retrieved.json): the handler
re-reads the dispute, its PaymentIntent and payment method; the money the bank took back is
a payment row of its own, once however often the event comes. A card payment's invoice is
`disputed` (staff see it; the account is not restricted); a returned SEPA debit's invoice
is unpaid again and enters the retry schedule, its document unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from canone.billing.configuration import Configuration
from canone.db.database import Database
from canone.integrations.payments.stripe import StripeGateway
from canone.services import signups
from canone.services.ports import Card, PaymentEvent
from canone.services.provider_events import RECORDED, apply_payment_event
from clocks import TestClock
from stripe_replay import StripeReplay
from wiring import services_on

DISPUTE = PaymentEvent("evt_1QmT9hLkdIwHu7ixDsp00001", "charge.dispute.created",
                       "du_1QmT9hLkdIwHu7ixDsp00002", "dispute", 1796400500, None)


def disputed(database: Database, tmp_path: Path, method_type: str) -> tuple[str, str]:
    """A sign-up whose payment the bank takes back, its dispute event applied three times
    (twice under its id, once under another); the account's and the invoice's ids."""
    clock = TestClock(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    svc = services_on(database, clock, tmp_path / "sandbox.db")
    signed = signups.sign_up(svc, signups.SignUp(
        name="Acme", timezone="UTC", locale="en", currency="USD", admin_email="ada@example.com",
        admin_name="Ada Lovelace", admin_password="correct horse",
        config=Configuration("marketing", "plus", "month", "USD", 1000, 1, ()),
        card=Card("4242424242424242", 12, 2035, "123")))
    with database.read() as store:
        (paid,) = store.payments.of_account(signed.account.id)
        intent = store.payments.get_intent(paid.idempotency_key)
    assert intent is not None
    values = {"{intent_key}": intent.key, "{card_token}": intent.card_token,
              "{method_type}": method_type}
    with StripeReplay("dispute_retrieved", values) as replay:
        stripe = replace(svc, gateway=StripeGateway("sk_test_recorded", api_base=replay.base,
                                                    network_retries=0))
        results = [apply_payment_event(stripe, event)
                   for event in (DISPUTE, DISPUTE, replace(DISPUTE, id="evt_again"))]
    assert replay.errors == [] and replay.pending == []
    assert results == [RECORDED] * 3
    return signed.account.id, signed.invoice.id


def test_a_disputed_card_payment_marks_its_invoice_disputed_once(database: Database,
                                                                 tmp_path: Path) -> None:
    account_id, invoice_id = disputed(database, tmp_path, "card")
    with database.read() as store:
        invoice = store.invoices.get(invoice_id)
        rows = sorted((p.amount, p.status) for p in store.payments.of_account(account_id))
        audit = store.audit.of_account(account_id, 10, action="invoice.disputed")
        after = store.accounts.get(account_id)
    assert invoice is not None and invoice.status == "disputed"
    assert rows == [(-4900, "disputed"), (4900, "succeeded")]
    assert len(audit) == 1 and audit[0].after is not None
    assert audit[0].after["reason"] == "fraudulent"
    assert after is not None and after.status == "active"


def test_a_returned_sepa_debit_makes_the_invoice_unpaid_and_starts_the_retries(
        database: Database, tmp_path: Path) -> None:
    account_id, invoice_id = disputed(database, tmp_path, "sepa_debit")
    with database.read() as store:
        invoice = store.invoices.get(invoice_id)
        rows = sorted((p.amount, p.status) for p in store.payments.of_account(account_id))
        audit = store.audit.of_account(account_id, 10, action="invoice.debit_returned")
    assert invoice is not None
    assert (invoice.status, invoice.amount_paid, invoice.amount_due, invoice.attempts) == (
        "open", 0, 4900, 1)
    assert invoice.next_attempt_at == datetime(2026, 4, 3, 8, 0, tzinfo=UTC)
    assert (invoice.total, invoice.number) == (4900, "2026-000001")  # the document unchanged
    assert rows == [(-4900, "debit_returned"), (4900, "succeeded")]
    assert len(audit) == 1
