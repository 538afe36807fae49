"""Invoice and credit note numbers stay gapless per year under concurrent issuing on
PostgreSQL (SPEC §5, §8): threads race to issue documents, some roll back after taking a
number; the numbers that remain run 1, 2, 3, … with no gap and no duplicate."""

from __future__ import annotations

import pytest

import stored
from canone.services import quotes
from canone.services.credit_notes import credit_gross
from canone.services.documents import REFUND

from .conftest import admin_of, at, config, sign_up
from .test_concurrency import together

pytestmark = pytest.mark.postgres


class Boom(Exception):
    """A failure after the number was taken: the transaction rolls back."""


def test_invoices_and_credit_notes_stay_gapless_when_issued_at_once(pg_svc, clock) -> None:
    svc = pg_svc
    accounts = [sign_up(svc, email=f"ada{n}@example.com").account.id for n in range(18)]
    signups = {a: stored.invoices(svc, a)[0] for a in accounts}
    clock.set(at(2026, 4, 16))

    def work(n: int) -> str:
        account_id = accounts[n]  # one document per account: no per-account lock
        if n % 3 == 0:  # an upgrade: an invoice, paid by card
            admin = admin_of(svc, account_id)
            quote = quotes.preview(svc, admin, account_id, config(tier="pro"))
            return quotes.confirm(svc, admin, account_id, quote.token).invoice.number
        with svc.database.transaction() as store:
            note = credit_gross(svc, store, signups[account_id], 100, REFUND)
            if n % 3 == 1:
                raise Boom(note.number)
            return note.number

    results = together(18, work)

    assert [r for r in results if not isinstance(r, str | Boom)] == []
    invoice_numbers = sorted(r for r in results if isinstance(r, str) and r[0] == "2")
    note_numbers = sorted(r for r in results if isinstance(r, str) and r.startswith("NC"))
    assert invoice_numbers == [f"2026-{n:06d}" for n in range(19, 25)]  # after 18 sign-ups
    assert note_numbers == [f"NC-2026-{n:06d}" for n in range(1, 7)]
    with svc.database.read() as store:
        noted = sorted(n.number for a in accounts
                       for n in store.documents.credit_notes_of(a, 100, None))
        issued = sorted(i.number for a in accounts for i in store.invoices.of_account(a, 100, None))
    assert noted == note_numbers
    assert issued == [f"2026-{n:06d}" for n in range(1, 25)]


def test_a_rolled_back_document_gives_its_number_back(pg_svc, clock) -> None:
    svc = pg_svc
    account_id = sign_up(svc).account.id
    [invoice] = stored.invoices(svc, account_id)
    with pytest.raises(Boom), svc.database.transaction() as store:
        credit_gross(svc, store, invoice, 100, REFUND)
        raise Boom
    with svc.database.transaction() as store:
        assert credit_gross(svc, store, invoice, 100, REFUND).number == "NC-2026-000001"
