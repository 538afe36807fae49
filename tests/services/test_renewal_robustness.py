"""The billing run keeps its promises: collecting one account looks at that account's
invoices whatever else is due, and invoice numbers stay gapless when a renewal meets a
period that was billed already."""

from __future__ import annotations

from datetime import date

from canone.services import accounts, renewal

from .conftest import DECLINED_CARD, GOOD_CARD, admin_of, at, invoices, sign_up


def test_invoice_numbers_stay_gapless_when_a_renewal_conflict_happens(svc, clock, monkeypatch,
                                                                     allow_fallback) -> None:
    """An invoice for the next period exists already (a crashed or foreign writer): the
    batch falls back to one by one, which moves that subscription's dates without taking
    an invoice number for it."""
    signed = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]
    with svc.database.transaction() as store:
        store.add_invoice(signed[0].invoice.but(
            id="inv_early", number=store.next_invoice_number(2026), kind="renewal",
            period_start=date(2026, 5, 1), period_end=date(2026, 6, 1), status="paid"))
    fell_back = _watch_fallback(monkeypatch)
    clock.set(at(2026, 5, 1, 12))

    report = renewal.run(svc)

    assert fell_back  # the path under test
    assert report.renewed == 3
    numbers = sorted(i.number for s in signed for i in invoices(svc, s.account.id))
    assert numbers == [f"2026-{n:06d}" for n in range(1, 7)]
    assert [i.id for i in invoices(svc, signed[0].account.id)
            if i.period_start == date(2026, 5, 1)] == ["inv_early"]


def _watch_fallback(monkeypatch) -> list[Exception]:
    """Record why a batch of renewals fell back to one by one."""
    seen: list[Exception] = []
    batch = renewal._renew_batch

    def watched(*args, **kwargs):
        try:
            return batch(*args, **kwargs)
        except Exception as exc:
            seen.append(exc)
            raise

    monkeypatch.setattr(renewal, "_renew_batch", watched)
    return seen


def test_collecting_an_account_looks_at_its_own_invoices_whatever_else_is_due(
        svc, clock) -> None:
    """Other accounts' retries fall due before this account's invoice: collecting this
    account, even in batches of two, charges its invoice and leaves theirs alone."""
    others = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]
    ada = sign_up(svc)
    for signed in (*others, ada):
        accounts.update_card(svc, admin_of(svc, signed.account.id), signed.account.id,
                             DECLINED_CARD)
    clock.set(at(2026, 5, 1, 12))
    assert renewal.run(svc).failed == 4  # each retried from 3 May, 12:00
    clock.set(at(2026, 5, 4, 12))
    good = svc.gateway.store_card(GOOD_CARD)
    unpaid = invoices(svc, ada.account.id)[-1]
    with svc.database.transaction() as store:  # as `accounts.update_card` does
        found = store.get_account(ada.account.id, lock=True)
        assert found is not None
        store.save_account(found.but(card=good))
        store.save_invoice(unpaid.but(next_attempt_at=clock.now()))

    report = renewal.collect(svc, clock.now(), account_id=ada.account.id, batch=2)

    assert (report.collected, report.failed) == (1, 0)
    assert invoices(svc, ada.account.id)[-1].status == "paid"
    for other in others:
        last = invoices(svc, other.account.id)[-1]
        assert (last.status, last.attempts, last.next_attempt_at) == (
            "open", 1, at(2026, 5, 3, 12))
