"""Billing details (SPEC §8) come back from the store exactly as saved, on both backends."""

from __future__ import annotations

from canone.billing.parties import Address, BillingDetails
from canone.db.database import Database
from canone.services.records import AccountBillingDetails
from canone.services.vies import ViesCheck

from .samples import T0, account, later

ITALIAN_BUSINESS = BillingDetails(
    "business", "Officina Verde S.r.l.", Address("Via Torino 10", "20123", "Milano", "MI", "IT"),
    vat_id="IT00743110157", tax_code="00743110157", sdi_code="M5UXCR1",
    pec="amministrazione@pec.officinaverde.it")
GERMAN_BUSINESS = BillingDetails(
    "business", "Nordwind Handel GmbH",
    Address("Unter den Linden 5", "10117", "Berlin", None, "DE"), vat_id="DE136695976")


def test_billing_details_round_trip_without_vies_answer(database: Database) -> None:
    saved = AccountBillingDetails("acc_1", ITALIAN_BUSINESS, None, None, T0)
    with database.transaction() as store:
        store.accounts.add(account())
        assert store.accounts.billing_details_of("acc_1") is None
        store.accounts.save_billing_details(saved)
    with database.read() as store:
        assert store.accounts.billing_details_of("acc_1") == saved
        assert store.accounts.billing_details_of("acc_2") is None


def test_a_save_replaces_the_details_and_keeps_the_vies_answer(database: Database) -> None:
    first = AccountBillingDetails("acc_1", ITALIAN_BUSINESS, None, "IT", T0)
    vies = ViesCheck(True, later(1), "NORDWIND HANDEL GMBH", "UNTER DEN LINDEN 5\n10117 BERLIN",
                     "WAPIAAAAZ0Y9KZ3S")
    second = AccountBillingDetails("acc_1", GERMAN_BUSINESS, vies, "FR", later(2))
    with database.transaction() as store:
        store.accounts.add(account())
        store.accounts.save_billing_details(first)
    with database.transaction() as store:
        assert store.accounts.billing_details_of("acc_1", lock=True) == first
        store.accounts.save_billing_details(second)
    with database.read() as store:
        assert store.accounts.billing_details_of("acc_1") == second


def test_an_unreachable_vies_is_kept_as_unconfirmed(database: Database) -> None:
    unreachable = ViesCheck(None, later(3))
    saved = AccountBillingDetails("acc_1", GERMAN_BUSINESS, unreachable, None, later(3))
    with database.transaction() as store:
        store.accounts.add(account())
        store.accounts.save_billing_details(saved)
    with database.read() as store:
        found = store.accounts.billing_details_of("acc_1")
    assert found is not None and found.vies == unreachable and not found.vies.confirmed


def test_the_details_of_several_accounts_in_one_read(database: Database) -> None:
    italian = AccountBillingDetails("acc_1", ITALIAN_BUSINESS, None, "IT", T0)
    german = AccountBillingDetails("acc_3", GERMAN_BUSINESS, None, None, later(1))
    with database.transaction() as store:
        for n in (1, 2, 3):
            store.accounts.add(account(n))
        store.accounts.save_billing_details(italian)
        store.accounts.save_billing_details(german)
    with database.read() as store:
        # acc_2 saved none, acc_9 does not exist: both left out.
        assert store.accounts.billing_details_by_ids(["acc_3", "acc_2", "acc_1", "acc_9"]) == {
            "acc_1": italian, "acc_3": german}
        assert store.accounts.billing_details_by_ids([]) == {}
