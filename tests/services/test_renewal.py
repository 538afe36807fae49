"""Renewal: at period end apply the pending change, invoice the new period in full, use
ledger credit first, collect the rest; retry a failed payment on days 3, 5 and 7, then
restrict the account until it pays (SPEC §5)."""

from __future__ import annotations

import gc
from datetime import date, timedelta

import stored
from canone.services import accounts, collection, quotes, renewal, requests, usage
from canone.services.access import ACCOUNT_KEY, Actor

from .conftest import DECLINED_CARD, GOOD_CARD, SUPPORT, admin_of, at, config, sign_up


def test_a_year_of_renewals(svc, clock) -> None:
    """Europe/Rome, from 10 January 2026: an upgrade, a scheduled reduction, a request
    applied at once, a card that declines, then a year's renewals; the run goes every day."""
    clock.set(at(2026, 1, 10))
    signed = sign_up(svc, config(seats=3), timezone="Europe/Rome")  # 49 + 2 × 19 = 87
    account_id = signed.account.id
    ada = admin_of(svc, account_id)
    host = Actor(ACCOUNT_KEY, "key:host", account_id)
    charged = [8700]
    failures: list[date] = []

    def upgrade_contacts() -> None:
        # 1,000 → 2,500 contacts on 24 Feb, period [10 Feb, 10 Mar): 14 of 28 days of
        # 49 → 69: −24.50 + 34.50.
        quote = quotes.preview(svc, ada, account_id, config(contacts=2500, seats=3))
        assert quote.token is not None
        assert quotes.confirm(svc, ada, account_id, quote.token).invoice.total == 1000
        charged.append(1000)

    def schedule_fewer_seats() -> None:
        quote = quotes.preview(svc, ada, account_id, config(contacts=2500, seats=2))
        assert quote.change.kind == "scheduled"
        assert quote.token is not None
        quotes.confirm(svc, ada, account_id, quote.token)

    def apply_request_now() -> None:
        # plus → starter at 2,500 contacts, 2 seats, on 25 April in [10 Apr, 10 May): 15 of
        # 30 days of 69 → 39 (the seat line, 19, is unchanged): 15.00 credited.
        request = requests.create(svc, ada, account_id, config("marketing", "starter",
                                  contacts=2500, seats=2), "budget", "Starter, please")
        requests.transition(svc, SUPPORT, request.id, "in_progress")
        requests.transition(svc, SUPPORT, request.id, "completed", "now")
        assert stored.balance(svc, account_id) == 1500

    def card_declines() -> None:
        accounts.update_card(svc, ada, account_id, DECLINED_CARD)

    def card_fixed() -> None:
        assert stored.account(svc, account_id).status == "past_due"
        assert usage.entitlements(svc, host, account_id).restricted
        accounts.update_card(svc, ada, account_id, GOOD_CARD)
        charged.append(5800)
        assert stored.account(svc, account_id).status == "active"
        assert not usage.entitlements(svc, host, account_id).restricted

    events = {date(2026, 2, 24): upgrade_contacts, date(2026, 3, 20): schedule_fewer_seats,
              date(2026, 4, 25): apply_request_now, date(2026, 6, 1): card_declines,
              date(2026, 6, 20): card_fixed}
    expected = {  # renewal day → (total, credit applied, charged)
        date(2026, 2, 10): (8700, 0, 8700),
        date(2026, 3, 10): (10700, 0, 10700),  # 69 + 2 × 19
        date(2026, 4, 10): (8800, 0, 8800),  # the reduction: 69 + 19
        date(2026, 5, 10): (5800, 1500, 4300),  # starter 39 + 19, less the credit
        date(2026, 6, 10): (5800, 0, 0),  # declined: retried 12, 14, 16 June; paid 20 June
        **{date(2026, m, 10): (5800, 0, 5800) for m in range(7, 13)},
        date(2027, 1, 10): (5800, 0, 5800),
    }

    day = date(2026, 1, 11)
    while day <= date(2027, 1, 10):
        clock.set(at(day.year, day.month, day.day, 8))  # 09:00 or 10:00 in Rome
        before = {i.id for i in stored.invoices(svc, account_id)}
        report = renewal.run(svc)
        new = [i for i in stored.invoices(svc, account_id) if i.id not in before]
        if day in expected:
            total, credit, paid = expected[day]
            assert report.renewed == 1, day
            assert [(i.kind, i.total, i.credit_applied, i.amount_paid) for i in new] == [
                ("renewal", total, credit, paid)], day
            if paid:
                charged.append(paid)
        else:
            assert report.renewed == 0 and new == [], day
        if report.failed:
            failures.append(day)
        if day in events:
            events[day]()
        day += timedelta(days=1)

    assert failures == [date(2026, 6, 10), date(2026, 6, 12), date(2026, 6, 14),
                        date(2026, 6, 16)]  # days 1, 3, 5 and 7 of the invoice
    june = next(i for i in stored.invoices(svc, account_id) if i.period_start == date(2026, 6, 10))
    assert (june.status, june.amount_paid, june.attempts) == ("paid", 5800, 4)
    assert [p.status for p in stored.payments(svc, account_id) if p.invoice_id == june.id] == [
        "failed", "failed", "failed", "failed", "succeeded"]

    everything = stored.invoices(svc, account_id)
    assert [i.number for i in everything] == [
        *(f"2026-{n:06d}" for n in range(1, 14)), "2027-000001"]
    assert [i.kind for i in everything].count("upgrade") == 1
    assert all(i.status == "paid" for i in everything)
    assert all(i.total == i.amount_paid + i.credit_applied for i in everything)
    assert [e.amount for e in stored.ledger(svc, account_id)] == [1500, -1500]
    assert stored.balance(svc, account_id) == 0
    assert svc.gateway.total_charged() == sum(charged) == 8700 + 8700 + 1000 + 10700 + 8800 \
        + 4300 + 5800 * 8
    assert sum(p.amount for p in stored.payments(svc, account_id) if p.status == "succeeded") == \
        sum(charged)
    sub = stored.subscription(svc, account_id)
    assert sub.config == config("marketing", "starter", contacts=2500, seats=2)
    assert (sub.period_start, sub.period_end) == (date(2027, 1, 10), date(2027, 2, 10))
    assert sub.renews_at == at(2027, 2, 9, 23)  # midnight in Rome


def test_declined_renewal_is_retried_on_days_3_5_and_7_then_restricted(svc, clock,
                                                                       signed) -> None:
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, DECLINED_CARD)
    host = Actor(ACCOUNT_KEY, "key:host", signed.account.id)

    attempts = {}
    for day in range(1, 10):
        clock.set(at(2026, 5, day, 12))
        attempts[day] = renewal.run(svc).failed
        if day < 7:
            assert stored.account(svc, signed.account.id).status == "active", day

    assert [day for day, failed in attempts.items() if failed] == [1, 3, 5, 7]
    assert stored.account(svc, signed.account.id).status == "past_due"
    assert stored.subscription(svc, signed.account.id).status == "past_due"
    assert usage.entitlements(svc, host, signed.account.id).restricted
    open_invoice = stored.invoices(svc, signed.account.id)[-1]
    assert (open_invoice.status, open_invoice.amount_due, open_invoice.attempts) == (
        "open", 4900, 4)
    assert open_invoice.next_attempt_at is None

    # Still renewed while past due; both invoices paid once the card is fixed.
    clock.set(at(2026, 6, 1, 12))
    renewal.run(svc)
    accounts.update_card(svc, ada, signed.account.id, GOOD_CARD)
    assert stored.account(svc, signed.account.id).status == "active"
    assert stored.subscription(svc, signed.account.id).status == "active"
    assert [(i.total, i.status) for i in stored.invoices(svc, signed.account.id)] == [
        (4900, "paid"), (4900, "paid"), (4900, "paid")]
    assert svc.gateway.total_charged() == 3 * 4900


def test_one_run_renews_every_period_that_ended(svc, clock, signed) -> None:
    clock.set(at(2026, 8, 15))

    report = renewal.run(svc)

    assert report.renewed == 4  # May, June, July and August
    assert [(i.period_start, i.total) for i in stored.invoices(svc, signed.account.id)] == [
        (date(2026, 4, 1), 4900), (date(2026, 5, 1), 4900), (date(2026, 6, 1), 4900),
        (date(2026, 7, 1), 4900), (date(2026, 8, 1), 4900)]
    assert renewal.run(svc).renewed == 0


def test_the_run_pauses_the_garbage_collector_for_its_batches_and_puts_it_back(
        svc, clock, signed) -> None:
    clock.set(at(2026, 5, 15))
    collecting: list[bool] = []  # as each batch ends (`progress`)

    assert gc.isenabled()
    assert renewal.run(svc, progress=lambda _: collecting.append(gc.isenabled()),
                       own_process=True).renewed == 1
    assert (collecting, gc.isenabled()) == ([False, False], True)

    clock.set(at(2026, 6, 15))
    gc.disable()  # a caller that had it off gets it back off
    try:
        assert renewal.run(svc, own_process=True).renewed == 1
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_run_inside_the_server_leaves_the_garbage_collector_alone(svc, clock, signed
                                                                    ) -> None:
    clock.set(at(2026, 5, 15))
    collecting: list[bool] = []
    assert renewal.run(svc, progress=lambda _: collecting.append(gc.isenabled())).renewed == 1
    assert collecting == [True, True]


def test_run_until_an_earlier_instant(svc, clock, signed) -> None:
    clock.set(at(2026, 8, 15))
    assert renewal.run(svc, until=at(2026, 5, 31)).renewed == 1
    assert stored.subscription(svc, signed.account.id).period_start == date(2026, 5, 1)


def test_credit_larger_than_the_invoice_pays_it_whole(svc, clock) -> None:
    signed = sign_up(svc, config(tier="enterprise"))  # 145
    request = requests.create(svc, admin_of(svc, signed.account.id), signed.account.id,
                              config(tier="starter"), "", "")
    clock.set(at(2026, 4, 2))
    # 145 → 15 for 29 of 30 days: −140.17 + 14.50 = 125.67 credited.
    requests.transition(svc, SUPPORT, request.id, "completed", "now")
    assert stored.balance(svc, signed.account.id) == 12567

    for month in (5, 6, 7, 8, 9, 10, 11, 12):
        clock.set(at(2026, month, 1))
        renewal.run(svc)

    renewed = stored.invoices(svc, signed.account.id)[1:]
    assert [(i.credit_applied, i.amount_paid) for i in renewed] == [
        (1500, 0)] * 8
    assert all(i.status == "paid" for i in renewed)
    assert stored.balance(svc, signed.account.id) == 12567 - 8 * 1500
    assert svc.gateway.total_charged() == 14500
    assert min(_running(stored.ledger(svc, signed.account.id))) >= 0


def _running(entries) -> list[int]:
    total, seen = 0, []
    for entry in entries:
        total += entry.amount
        seen.append(total)
    return seen


def test_a_batch_numbers_every_invoice_in_the_year_of_the_seller(svc, clock) -> None:
    """New Year's Eve at 23:30 UTC: already 2027 in Rome (the seller's calendar, SPEC §8),
    still 2026 in Los Angeles and in UTC. Every invoice issued then is of 2027."""
    clock.set(at(2026, 12, 1, 12))
    rome = sign_up(svc, timezone="Europe/Rome", email="rome@example.com")
    la = sign_up(svc, timezone="America/Los_Angeles", email="la@example.com")
    utc = sign_up(svc, email="utc@example.com")
    assert [s.invoice.number for s in (rome, la, utc)] == [
        "2026-000001", "2026-000002", "2026-000003"]

    clock.set(at(2026, 12, 31, 23, 30))
    report = renewal.run(svc, until=at(2027, 1, 2))  # all three periods end on 1 January

    assert report.renewed == 3
    # In the order they fell due: Rome, UTC at midnight UTC, Los Angeles eight hours later.
    renewed = [stored.invoices(svc, s.account.id)[-1] for s in (rome, utc, la)]
    assert [i.number for i in renewed] == ["2027-000001", "2027-000002", "2027-000003"]
    assert {i.issued_on for i in renewed} == {date(2027, 1, 1)}


def test_a_period_billed_already_is_not_billed_again(svc, clock, allow_fallback) -> None:
    """Should an invoice for the next period exist (a crashed or foreign writer), the
    batch falls back to renewing one by one, and the period is billed once."""
    signed = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]
    first = signed[0]
    with svc.database.transaction() as store:
        store.invoices.add(first.invoice.but(
            id="inv_early", number=store.invoices.next_number(2026), kind="renewal",
            period_start=date(2026, 5, 1), period_end=date(2026, 6, 1), status="paid"))
    clock.set(at(2026, 5, 1))

    report = renewal.run(svc)

    assert report.renewed == 3
    assert [i.id for i in stored.invoices(svc, first.account.id)
            if i.period_start == date(2026, 5, 1)] == ["inv_early"]
    for other in signed[1:]:
        assert [i.period_start for i in stored.invoices(svc, other.account.id)] == [
            date(2026, 4, 1), date(2026, 5, 1)]
    assert stored.subscription(svc, first.account.id).period_start == date(2026, 5, 1)


def test_a_batch_of_collections_that_fails_is_settled_one_by_one(svc, clock, monkeypatch,
                                                                 allow_fallback) -> None:
    signed = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]
    accounts.update_card(svc, admin_of(svc, signed[1].account.id), signed[1].account.id,
                         DECLINED_CARD)

    def broken(self) -> None:
        raise RuntimeError("the batch write failed")

    monkeypatch.setattr(collection._CollectStore, "flush", broken)
    clock.set(at(2026, 5, 1))
    report = renewal.run(svc)

    assert (report.renewed, report.collected, report.failed) == (3, 2, 1)
    assert [stored.invoices(svc, s.account.id)[-1].status
            for s in signed] == ["paid", "open", "paid"]
    assert svc.gateway.total_charged() == 3 * 4900 + 2 * 4900
    assert [p.status for p in stored.payments(svc, signed[1].account.id)] == ["succeeded", "failed"]
