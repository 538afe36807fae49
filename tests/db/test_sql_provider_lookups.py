"""What the provider's events are looked up by (SPEC §9), on every store: the account of a
provider customer, and the account whose card on file is a provider payment method."""

from __future__ import annotations

from canone.db.database import Database

from .samples import account


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
