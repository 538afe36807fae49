"""An account's billing details (SPEC §8) saved and read through the services: who may,
VIES asked for an EU business abroad, audit entry and event, and sign-up."""

from __future__ import annotations

from dataclasses import replace

import pytest

from canone.billing.parties import Address, BillingDetails
from canone.services import billing_details, signups
from canone.services.access import ACCOUNT_KEY, EMAIL, Actor
from canone.services.context import Services
from canone.services.errors import Forbidden, InvalidBillingDetails, NotFound
from canone.services.records import AccountBillingDetails
from canone.services.vies import ViesCheck
from clocks import TestClock
from vies_answers import CountingVies, UnreachableVies

from .conftest import GOOD_CARD, SUPPORT, add_person, admin_of, config, sign_up

MILANO = Address("Via Torino 10", "20123", "Milano", "MI", "IT")
ITALIAN_BUSINESS = BillingDetails("business", "Officina Verde S.r.l.", MILANO,
                                  vat_id="00743110157", sdi_code="m5uxcr1")
GERMAN_BUSINESS = BillingDetails(
    "business", "Nordwind Handel GmbH",
    Address("Unter den Linden 5", "10117", "Berlin", None, "de"), vat_id="DE 136 695 976")


@pytest.fixture
def vies() -> CountingVies:
    return CountingVies()


@pytest.fixture
def with_vies(svc: Services, vies: CountingVies) -> Services:
    return replace(svc, vies=vies)


def test_none_saved_yet_is_not_found(with_vies: Services) -> None:
    done = sign_up(with_vies)
    with pytest.raises(NotFound, match=f"account {done.account.id} has no billing details yet"):
        billing_details.get(with_vies, admin_of(with_vies, done.account.id), done.account.id)


def test_an_italian_business_is_saved_normalised_without_asking_vies(
        with_vies: Services, vies: CountingVies) -> None:
    account_id = sign_up(with_vies).account.id
    admin = admin_of(with_vies, account_id)
    saved = billing_details.save(with_vies, admin, account_id, ITALIAN_BUSINESS)

    assert saved == AccountBillingDetails(
        account_id, replace(ITALIAN_BUSINESS, vat_id="IT00743110157", sdi_code="M5UXCR1"),
        None, None, with_vies.now())
    assert billing_details.get(with_vies, admin, account_id) == saved
    assert vies.asked == []  # domestic whatever VIES says


def test_an_eu_business_abroad_is_checked_in_vies_and_the_answer_kept(
        with_vies: Services, vies: CountingVies) -> None:
    account_id = sign_up(with_vies).account.id
    saved = billing_details.save(with_vies, admin_of(with_vies, account_id), account_id,
                                 GERMAN_BUSINESS)
    assert vies.asked == ["DE136695976"]
    assert saved.vies == ViesCheck(True, with_vies.now())
    assert saved.details.country == "DE"
    assert billing_details.get(with_vies, SUPPORT, account_id).vies == saved.vies


def test_without_a_vies_port_nothing_is_confirmed(svc: Services) -> None:
    account_id = sign_up(svc).account.id
    saved = billing_details.save(svc, admin_of(svc, account_id), account_id, GERMAN_BUSINESS)
    assert saved.vies is None


def test_wrong_fields_are_all_named_and_nothing_is_saved(with_vies: Services) -> None:
    account_id = sign_up(with_vies).account.id
    admin = admin_of(with_vies, account_id)
    wrong = replace(GERMAN_BUSINESS, vat_id="DE136695977",
                    address=replace(GERMAN_BUSINESS.address, city=" "))
    with pytest.raises(InvalidBillingDetails) as error:
        billing_details.save(with_vies, admin, account_id, wrong)
    assert error.value.errors == {
        "address.city": "is required",
        "vat_id": "not a valid DE VAT id (the number's checksum or check digit is invalid)"}
    with pytest.raises(NotFound):
        billing_details.get(with_vies, admin, account_id)


def test_a_save_writes_an_audit_entry_and_an_account_updated_event(
        with_vies: Services) -> None:
    account_id = sign_up(with_vies).account.id
    admin = admin_of(with_vies, account_id)
    billing_details.save(with_vies, admin, account_id, ITALIAN_BUSINESS)
    billing_details.save(with_vies, SUPPORT, account_id, GERMAN_BUSINESS)
    with with_vies.database.read() as store:
        audit = store.audit.of_account(account_id, 10, "account.billing_details_updated")
        events = [e for e in store.outbox.events_of(account_id, 50) if e.type == "account.updated"]
    assert [(a.actor, a.before and a.before["billing_details"]["vat_id"],
             a.after and a.after["billing_details"]["vat_id"]) for a in audit] == [
        ("staff:sam@canone.test", "IT00743110157", "DE136695976"),
        ("user:ada@example.com", None, "IT00743110157")]
    assert audit[0].after and audit[0].after["vies"] == {
        "valid": True, "checked_at": with_vies.now().isoformat(), "name": None,
        "address": None, "consultation_id": None}
    assert [e.data["billing_details"]["vat_id"] for e in events][-2:] in (
        ["IT00743110157", "DE136695976"], ["DE136695976", "IT00743110157"])
    assert {e.data["account_id"] for e in events} == {account_id}


def test_only_the_primary_admin_staff_and_api_keys_change_them(with_vies: Services) -> None:
    account_id = sign_up(with_vies, config(seats=3)).account.id  # a seat for each person
    billing_admin = add_person(with_vies, account_id, "bill@example.com", "admin", True)
    user = add_person(with_vies, account_id, "user@example.com")
    for person in (billing_admin, user):
        with pytest.raises(Forbidden, match="Only the primary admin can change the billing "
                           r"details. Ask Ada Lovelace \(ada@example.com\)."):
            billing_details.save(with_vies, Actor.of_user(person), account_id,
                                 ITALIAN_BUSINESS)
    with pytest.raises(Forbidden, match="an unverified email cannot"):
        billing_details.save(with_vies, Actor(EMAIL, "email:ada@example.com", account_id),
                             account_id, ITALIAN_BUSINESS)
    key = Actor(ACCOUNT_KEY, "api_key:host", account_id)
    billing_details.save(with_vies, key, account_id, ITALIAN_BUSINESS)
    # A billing admin may read them (as invoices); a plain user may not.
    assert billing_details.get(with_vies, Actor.of_user(billing_admin), account_id)
    with pytest.raises(Forbidden):
        billing_details.get(with_vies, Actor.of_user(user), account_id)


def test_another_accounts_key_or_user_finds_nothing(with_vies: Services) -> None:
    mine = sign_up(with_vies).account.id
    theirs = sign_up(with_vies, email="bob@example.com").account.id
    billing_details.save(with_vies, SUPPORT, theirs, ITALIAN_BUSINESS)
    for actor in (admin_of(with_vies, mine), Actor(ACCOUNT_KEY, "api_key:host", mine)):
        with pytest.raises(NotFound, match=f"no account {theirs}"):
            billing_details.get(with_vies, actor, theirs)
        with pytest.raises(NotFound, match=f"no account {theirs}"):
            billing_details.save(with_vies, actor, theirs, GERMAN_BUSINESS)


def test_sign_up_keeps_the_billing_details_with_vies_answer(with_vies: Services) -> None:
    plan = config(currency="EUR")
    done = signups.sign_up(with_vies, signups.SignUp(
        name="Nordwind", timezone="Europe/Berlin", locale="en", currency="EUR",
        admin_email="kai@nordwind.example", admin_name="Kai Berger",
        admin_password="correct horse", config=plan, card=GOOD_CARD,
        billing_details=GERMAN_BUSINESS))
    saved = billing_details.get(with_vies, SUPPORT, done.account.id)
    assert saved.details.vat_id == "DE136695976"
    assert saved.vies == ViesCheck(True, with_vies.now())


def test_sign_up_names_wrong_billing_fields_and_creates_nothing(with_vies: Services) -> None:
    wrong = replace(ITALIAN_BUSINESS, vat_id="00743110158",
                    address=replace(MILANO, province="XX"))
    with pytest.raises(InvalidBillingDetails) as error:
        signups.sign_up(with_vies, signups.SignUp(
            name="Officina", timezone="Europe/Rome", locale="it", currency="EUR",
            admin_email="eva@officina.example", admin_name="Eva Verdi",
            admin_password="correct horse", config=config(currency="EUR"), card=GOOD_CARD,
            billing_details=wrong))
    assert error.value.errors == {
        "billing_details.address.province":
            "'XX' is not an Italian province (two letters, e.g. MI, RM)",
        "billing_details.vat_id":
            "not a valid partita IVA (the number's checksum or check digit is invalid)"}
    with with_vies.database.read() as store:
        assert store.people.user_by_email("eva@officina.example") is None


def test_the_card_country_is_kept_and_a_mismatch_flagged(with_vies: Services) -> None:
    account_id = sign_up(with_vies).account.id
    billing_details.note_card_country(with_vies, account_id, "IT")  # no details yet: dropped
    billing_details.save(with_vies, SUPPORT, account_id, ITALIAN_BUSINESS)
    saved = billing_details.get(with_vies, SUPPORT, account_id)
    assert saved.card_country is None and not billing_details.card_country_mismatch(saved)
    billing_details.note_card_country(with_vies, account_id, "IT")
    assert not billing_details.card_country_mismatch(
        billing_details.get(with_vies, SUPPORT, account_id))
    billing_details.note_card_country(with_vies, account_id, "GB")
    billing_details.save(with_vies, SUPPORT, account_id, ITALIAN_BUSINESS)  # kept on a save
    saved = billing_details.get(with_vies, SUPPORT, account_id)
    assert saved.card_country == "GB" and billing_details.card_country_mismatch(saved)


def test_a_document_takes_vies_answer_asked_again_after_30_days(
        with_vies: Services, vies: CountingVies, clock: TestClock) -> None:
    account_id = sign_up(with_vies).account.id
    saved = billing_details.save(with_vies, SUPPORT, account_id, GERMAN_BUSINESS)
    clock.advance(days=30)
    assert billing_details.details_for_document(with_vies, account_id) == saved
    assert vies.asked == ["DE136695976"]  # 30 days old: still good

    clock.advance(minutes=1)
    fresh = billing_details.details_for_document(with_vies, account_id)
    assert vies.asked == ["DE136695976", "DE136695976"]
    assert fresh == saved.but(vies=ViesCheck(True, clock.now()))
    assert billing_details.confirmed(fresh)
    assert billing_details.get(with_vies, SUPPORT, account_id) == fresh
    with with_vies.database.read() as store:
        [entry] = store.audit.of_account(account_id, 10, "account.vies_checked")
    assert (entry.actor, entry.after) == ("system", {"vies": {
        "valid": True, "checked_at": clock.now().isoformat(), "name": None, "address": None,
        "consultation_id": None}})


def test_an_unreachable_answer_is_asked_again_for_the_next_document(
        with_vies: Services, vies: CountingVies, clock: TestClock) -> None:
    account_id = sign_up(with_vies).account.id
    billing_details.save(replace(with_vies, vies=UnreachableVies()), SUPPORT, account_id,
                         GERMAN_BUSINESS)
    clock.advance(minutes=5)
    fresh = billing_details.details_for_document(with_vies, account_id)
    assert vies.asked == ["DE136695976"]
    assert fresh is not None and fresh.vies == ViesCheck(True, clock.now())


def test_a_document_for_a_customer_vies_does_not_concern_asks_nothing(
        with_vies: Services, vies: CountingVies, clock: TestClock) -> None:
    account_id = sign_up(with_vies).account.id
    assert billing_details.details_for_document(with_vies, account_id) is None
    saved = billing_details.save(with_vies, SUPPORT, account_id, ITALIAN_BUSINESS)
    clock.advance(days=400)
    assert billing_details.details_for_document(with_vies, account_id) == saved
    assert not billing_details.confirmed(saved)
    assert vies.asked == []
