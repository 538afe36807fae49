"""What the provider's events are looked up by (SPEC §9), on every store: the account of a
provider customer, and the account whose card on file is a provider payment method; and
the disputed invoices they leave, which the console's queue lists."""

from __future__ import annotations

from canone.db.database import Database

from .samples import account, invoice, later


def test_an_account_is_found_by_its_provider_customer_and_its_card(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        store.accounts.add(account(2, card=None))
        store.accounts.save_payment_customer("acc_1", "cus_one")
    first = account()
    assert first.card is not None
    with database.read() as store:
        assert store.accounts.account_of_payment_customer("cus_one") == "acc_1"
        assert store.accounts.account_of_payment_customer("cus_other") is None
        assert store.accounts.account_with_card(first.card.token) == "acc_1"
        assert store.accounts.account_with_card("pm_nobody") is None


def test_disputed_invoices_newest_first(database: Database) -> None:
    with database.transaction() as store:
        store.accounts.add(account())
        for n in range(1, 5):
            store.invoices.add(invoice(n, kind="upgrade", issued_at=later(n)))
        for n in (1, 2, 4):
            store.invoices.save(invoice(n, kind="upgrade", issued_at=later(n),
                                        status="disputed" if n != 2 else "paid"))
    with database.read() as store:
        found = store.invoices.disputed(10)
        assert [i.id for i in found] == ["inv_4", "inv_1"]
        assert found[1] == invoice(1, kind="upgrade", issued_at=later(1), status="disputed")
        assert [i.id for i in store.invoices.disputed(1)] == ["inv_4"]
