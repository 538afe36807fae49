"""Credit notes (SPEC §8): issued whenever money is given back against issued invoices, each
linked to the invoice it corrects, never giving back more than that invoice has left, in
their own gapless yearly series of the seller's calendar, and pointed at by the ledger
entry they grant. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stored
from canone.billing.credit_notes import LATE_REDUCTION, late_reduction, net_of_gross
from canone.billing.errors import InvalidField
from canone.billing.parties import BillingDetails
from canone.billing.tax import DOMESTIC, TaxTreatment
from canone.services import (
    accounts,
    change_settlement,
    credit_notes,
    payments,
    quotes,
    requests,
    subscriptions,
)
from canone.services.context import Services
from canone.services.credit_notes import credit_gross, issue_credit_note
from canone.services.documents import (
    REFUND,
    SUPERSEDED_PAYMENT,
    TO_BALANCE,
    TO_CARD,
    UNUSED_TIME,
    CreditNoteLine,
)
from canone.services.errors import PaymentPending, StaleQuote
from canone.services.records import Invoice
from canone.services.signups import SignedUp
from clocks import TestClock

from .conftest import SUPPORT, TIMEOUT_CARD, admin_of, at, config, sign_up


def notes_of(svc, account_id: str):
    """Oldest first."""
    with svc.database.read() as store:
        found = store.documents.credit_notes_of(account_id, 1000, None)
    return sorted(found, key=lambda n: n.number)


def give_back(svc, invoice: Invoice, amount: int, **kwargs):
    with svc.database.transaction() as store:
        return credit_gross(svc, store, invoice, amount, REFUND, **kwargs)


def test_credit_spread_over_the_period_s_invoices_newest_first_each_up_to_what_it_has_left(
        svc, clock) -> None:
    signed = sign_up(svc, config(tier="plus"))  # 49.00 for April
    ada = admin_of(svc, signed.account.id)
    clock.set(at(2026, 4, 16))  # 15 of 30 days left
    quote = quotes.preview(svc, ada, signed.account.id, config(tier="pro"))  # 49 → 79
    quotes.confirm(svc, ada, signed.account.id, quote.token)  # −24.50 + 39.50 = 15.00
    request = requests.create(svc, ada, signed.account.id, config(tier="starter"), "",
                              "Too much")
    clock.set(at(2026, 4, 21))  # 10 of 30 days left

    requests.transition(svc, SUPPORT, request.id, "completed", "now")

    # 79 → 15 for 10 days: −26.33 + 5.00 = 21.33 back: 15.00 from the upgrade invoice (all
    # it had), the other 6.33 from the sign-up invoice.
    signup, upgrade = stored.invoices(svc, signed.account.id)
    notes = notes_of(svc, signed.account.id)
    assert [(n.number, n.invoice_number, n.total, n.reason, n.source_id) for n in notes] == [
        ("NC-2026-000001", upgrade.number, 1500, UNUSED_TIME, request.id),
        ("NC-2026-000002", signup.number, 633, UNUSED_TIME, request.id)]
    assert [(n.invoice_date, n.issued_on) for n in notes] == [
        (date(2026, 4, 16), date(2026, 4, 21)), (date(2026, 4, 1), date(2026, 4, 21))]
    assert [line.amount for n in notes for line in n.lines] == [1500, 633]
    assert [(e.amount, e.credit_note_id) for e in stored.ledger(svc, signed.account.id)] == [
        (1500, notes[0].id), (633, notes[1].id)]
    assert stored.balance(svc, signed.account.id) == 2133


def test_a_refund_gives_back_at_most_what_the_invoice_has_left(svc, clock) -> None:
    signed = sign_up(svc)  # 49.00
    [invoice] = stored.invoices(svc, signed.account.id)
    clock.set(at(2026, 4, 10))

    first = give_back(svc, invoice, 1999, settlement=TO_CARD, source_id="re_1")
    second = give_back(svc, invoice, 2901)
    with pytest.raises(InvalidField) as refused:
        give_back(svc, invoice, 1)

    assert refused.value.field == "amount"
    assert "has left to credit (0.00 USD)" in refused.value.message
    assert [(n.number, n.total, n.settlement) for n in (first, second)] == [
        ("NC-2026-000001", 1999, "card"), ("NC-2026-000002", 2901, "balance")]
    # Only what goes to the balance is in the ledger: a refund goes back to the card.
    assert [(e.amount, e.credit_note_id) for e in stored.ledger(svc, signed.account.id)] == [
        (2901, second.id)]
    assert len(notes_of(svc, signed.account.id)) == 2  # the refused one took no number


def test_a_credit_note_lists_positive_amounts_only(svc) -> None:
    signed = sign_up(svc)
    [invoice] = stored.invoices(svc, signed.account.id)
    for lines in ([], [CreditNoteLine("refund", "Refund", 0)],
                  [CreditNoteLine("a", "A", 500), CreditNoteLine("b", "B", -100)]):
        with pytest.raises(InvalidField) as refused, svc.database.transaction() as store:
            issue_credit_note(svc, store, invoice, lines, REFUND)
        assert refused.value.field == "lines"
    assert notes_of(svc, signed.account.id) == []


def test_the_series_is_yearly_in_the_seller_s_calendar(svc, clock) -> None:
    signed = sign_up(svc, config(interval="year"), timezone="America/Los_Angeles")
    [invoice] = stored.invoices(svc, signed.account.id)
    clock.set(at(2026, 12, 31, 22, 59))  # 23:59 in Rome: still 2026
    assert give_back(svc, invoice, 100).number == "NC-2026-000001"
    clock.set(at(2026, 12, 31, 23, 0))  # midnight in Rome (14:00 in Los Angeles)
    late = give_back(svc, invoice, 100)
    assert (late.number, late.issued_on) == ("NC-2027-000001", date(2027, 1, 1))
    assert give_back(svc, invoice, 100).number == "NC-2027-000002"


def test_a_reduction_more_than_a_year_after_the_invoice_carries_no_vat() -> None:
    domestic = TaxTreatment(DOMESTIC, Decimal(22), "IT", None, "vat")
    on_time = credit_notes.credit_treatment(domestic, date(2026, 4, 1), date(2027, 4, 1))
    late = credit_notes.credit_treatment(domestic, date(2026, 4, 1), date(2027, 4, 2))
    assert on_time == domestic
    assert late == late_reduction("IT")
    assert (late.rule, late.rate, late.natura) == (LATE_REDUCTION, Decimal(0), "N2.2")
    assert late.note_text("it") == ("Variazione oltre un anno dall'operazione: fuori campo "
                                    "IVA, art. 26, c. 3, DPR 633/72")


@pytest.mark.parametrize(("gross", "rate", "net"), [
    ("58.56", "22", "48.00"),  # the 48.00 upgrade of SPEC §4, Italian VAT
    ("10.00", "22", "8.20"),  # 8.20 + 1.80
    ("0.01", "22", "0.01"),  # 0.01 + 0.00
    ("0.02", "22", "0.02"),  # 0.02 + 0.00
    ("0.03", "22", "0.02"),  # no net makes 0.03: 0.03 + 0.01 = 0.04; 0.02 + 0.00 = 0.02
    ("120.00", "20", "100.00"),
    ("77.48", "0", "77.48"),
])
def test_the_net_of_a_gross_amount_is_the_largest_that_does_not_exceed_it(
        gross: str, rate: str, net: str) -> None:
    treatment = TaxTreatment(DOMESTIC, Decimal(rate), "IT", None, "vat")
    assert net_of_gross(Decimal(gross), treatment) == Decimal(net)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=1, max_value=6000), min_size=1, max_size=6))
def test_credit_notes_never_exceed_what_their_invoice_has_left(signed_up, asked) -> None:
    svc, account_id = signed_up
    with svc.database.transaction() as store:
        template = store.invoices.of_account(account_id, 1, None)[0]
        invoice = template.but(id=f"inv_{len(asked)}_{sum(asked)}_{id(asked)}",
                               number=store.invoices.next_number(2099))
        store.invoices.add(invoice)
    left = invoice.total
    for amount in asked:
        if amount <= left:
            assert give_back(svc, invoice, amount).total == amount
            left -= amount
        else:
            with pytest.raises(InvalidField):
                give_back(svc, invoice, amount)
    with svc.database.read() as store:
        issued = store.documents.credit_notes_of_invoice(invoice.id)
    assert sum(n.total for n in issued) == invoice.total - left <= invoice.total
    assert [n.total for n in issued] == _accepted(asked, invoice.total)


def _accepted(asked: list[int], total: int) -> list[int]:
    taken = []
    for amount in asked:
        if amount <= total - sum(taken):
            taken.append(amount)
    return taken


@pytest.fixture
def signed_up(svc):
    """Services and an account signed up once for all of a property's examples."""
    return svc, sign_up(svc).account.id


def test_a_payment_for_a_change_another_change_overtook_is_invoiced_and_refunded(
        taxed, clock) -> None:
    """SPEC §9: a quote gone stale while its payment finished is not applied; the payment is
    invoiced (a payment received is), refunded in full through the provider, and the refund's
    credit note (to the card) corrects that invoice. The customer is told, once."""
    svc = taxed
    signed = sign_up(svc, config(currency="EUR"))  # 49.00 + 10.78 VAT
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id,
                           config(tier="enterprise", currency="EUR")).token
    with pytest.raises(PaymentPending):  # 58.56 taken; the answer was lost
        quotes.confirm(svc, ada, signed.account.id, token)
    request = requests.create(svc, ada, signed.account.id, config(tier="pro", currency="EUR"),
                              "", "Pro instead")
    requests.transition(svc, SUPPORT, request.id, "completed", "now")  # overtakes it
    clock.advance(minutes=1)

    assert payments.reconcile(svc) == 1
    assert payments.reconcile(svc) == 0

    superseded = stored.invoices(svc, signed.account.id)[-1]
    assert (superseded.kind, superseded.subtotal, superseded.tax, superseded.total,
            superseded.amount_paid, superseded.status) == ("upgrade", 4800, 1056, 5856, 5856,
                                                           "refunded")
    refund_notes = [n for n in notes_of(svc, signed.account.id) if n.invoice_id == superseded.id]
    [note] = refund_notes
    assert (note.reason, note.settlement, note.subtotal, note.tax, note.total) == (
        SUPERSEDED_PAYMENT, TO_CARD, 4800, 1056, 5856)
    assert [e for e in stored.ledger(svc, signed.account.id) if e.invoice_id == superseded.id] == []
    [refund] = [p for p in stored.payments(svc, signed.account.id) if p.status == "refunded"]
    assert (refund.invoice_id, refund.amount, note.source_id) == (
        superseded.id, -5856, refund.charge_id)
    assert svc.gateway.refund_outcome(str(refund.charge_id)).amount_minor == 5856
    assert stored.subscription(svc, signed.account.id).config == config(tier="pro", currency="EUR")
    assert svc.gateway.total_charged() == 5978 + 5856
    [told] = [n for n in stored.notifications(svc, signed.account.id)
              if n["kind"] == "change_refunded"]
    assert told["data"] == {"amount": 5856, "currency": "EUR", "last4": TIMEOUT_CARD.number[-4:],
                            "invoice_number": superseded.number,
                            "credit_note_number": note.number}
    # Asked again (the page's follow-up, a late event): the same answer, nothing refunded twice.
    issued = notes_of(svc, signed.account.id)
    with pytest.raises(StaleQuote, match="refunded to your card"):
        quotes.confirm(svc, ada, signed.account.id, token)
    change_settlement.refund_stale(svc, quote_intent_key(svc, signed.account.id))
    assert [p.status for p in stored.payments(svc, signed.account.id)].count("refunded") == 1
    assert notes_of(svc, signed.account.id) == issued
    assert stored.kinds(svc, signed.account.id).count("change_refunded") == 1


def test_a_stale_quote_s_balance_goes_back_to_the_balance_and_the_card_s_part_to_the_card(
        taxed, clock) -> None:
    """The quote used 20.00 of credit and charged the card 38.56 of its 58.56: each goes
    back where it came from, each with its credit note against the one invoice."""
    svc = taxed
    signed = stale_quote_with_credit(svc, clock)

    assert payments.reconcile(svc) == 1

    stale = stored.invoices(svc, signed.account.id)[-1]
    assert (stale.total, stale.credit_applied, stale.amount_paid, stale.status) == (
        5856, 2000, 3856, "refunded")
    notes = sorted((n.settlement, n.subtotal, n.tax, n.total)
                   for n in notes_of(svc, signed.account.id))
    assert notes == [(TO_BALANCE, 1639, 361, 2000), (TO_CARD, 3161, 695, 3856)]
    assert [e.amount for e in stored.ledger(svc, signed.account.id)] == [2000, -2000, 2000]
    assert stored.balance(svc, signed.account.id) == 2000
    [refund] = [p for p in stored.payments(svc, signed.account.id) if p.status == "refunded"]
    assert (refund.amount, svc.gateway.refund_outcome(str(refund.charge_id)).amount_minor) == (
        -3856, 3856)
    assert stored.subscription(svc, signed.account.id).config == config(currency="EUR")
    [told] = [n["data"] for n in stored.notifications(svc, signed.account.id)
              if n["kind"] == "change_refunded"]
    assert (told["amount"], told["currency"]) == (3856, "EUR")


def stale_quote_with_credit(svc: Services, clock: TestClock,
                            details: BillingDetails | None = None) -> SignedUp:
    """An account whose upgrade (58.56, 20.00 of it from its balance) was charged to the card
    (38.56) with the answer lost, and then went stale: support cancelled at period end."""
    signed = sign_up(svc, config(currency="EUR"), details=details)
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)
    with svc.database.transaction() as store:
        subscriptions.credit(svc, store, signed.account, 2000, "Goodwill", None)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id,
                           config(tier="enterprise", currency="EUR")).token
    with pytest.raises(PaymentPending):  # 38.56 taken; the answer was lost
        quotes.confirm(svc, ada, signed.account.id, token)
    with svc.database.transaction() as store:  # support cancels at period end meanwhile
        sub = store.subscriptions.of_account(signed.account.id, lock=True)
        store.subscriptions.save(sub.but(cancel_at_period_end=True, version=sub.version + 1))
    clock.advance(minutes=1)
    return signed


def quote_intent_key(svc, account_id: str) -> str:
    with svc.database.read() as store:
        [key] = [p.idempotency_key for p in store.payments.of_account(account_id)
                 if p.idempotency_key.startswith("chg_")]
    return key


def test_a_yearly_invoice_credited_more_than_a_year_later_carries_no_vat(taxed, clock) -> None:
    svc = taxed
    signed = sign_up(svc, config(currency="EUR", interval="year"))
    invoice = signed.invoice
    assert invoice.tax_lines[0].rate == Decimal(22)
    clock.set(at(2027, 4, 1, 12))  # 1 April 2027: still within the year
    on_time = give_back(svc, invoice, 1220)
    clock.set(at(2027, 4, 2, 12))
    late = give_back(svc, invoice, 1000)

    assert [(t.rule, t.rate, t.taxable, t.amount) for t in on_time.tax_lines] == [
        (DOMESTIC, Decimal(22), 1000, 220)]
    assert (on_time.subtotal, on_time.total) == (1000, 1220)
    assert [(t.rule, t.rate, t.natura, t.taxable, t.amount) for t in late.tax_lines] == [
        (LATE_REDUCTION, Decimal(0), "N2.2", 1000, 0)]
    assert (late.subtotal, late.total, late.stamp_duty) == (1000, 1000, 0)
