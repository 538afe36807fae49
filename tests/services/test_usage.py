"""Usage reports, warnings once per threshold and period, auto-upgrade and entitlements
(SPEC §6)."""

from __future__ import annotations

import pytest

import stored
from canone.billing.errors import InvalidField
from canone.services import accounts, renewal, usage
from canone.services.access import ACCOUNT_KEY, Actor
from canone.services.errors import Forbidden

from .conftest import admin_of, at, config, sign_up


def host(account_id: str) -> Actor:
    """The host product's API key for the account."""
    return Actor(ACCOUNT_KEY, "key:host", account_id)


def threshold_mails(svc, account_id: str) -> list[int]:
    return sorted(n["data"]["threshold"] for n in stored.notifications(svc, account_id)
                  if n["kind"] == "usage_threshold")


def test_thresholds_are_recorded_once_per_period(svc, clock, signed) -> None:
    key = host(signed.account.id)

    reached = [usage.report(svc, key, signed.account.id, contacts, 1).thresholds_reached
               for contacts in (700, 750, 800, 899, 900, 1000, 1200, 1000)]

    assert reached == [(), (75,), (), (), (90,), (100,), (), ()]
    assert threshold_mails(svc, signed.account.id) == [75, 90, 100]
    assert stored.subscription(svc, signed.account.id).config == config()  # no auto-upgrade
    assert svc.gateway.total_charged() == 4900

    clock.set(at(2026, 5, 1))
    renewal.run(svc)
    assert usage.report(svc, key, signed.account.id, 1000, 1).thresholds_reached == (
        75, 90, 100)
    # All three crossed at once: one email, the highest; each threshold is still noted.
    assert threshold_mails(svc, signed.account.id) == [75, 90, 100, 100]


def test_reports_are_whole_numbers(svc, signed) -> None:
    with pytest.raises(InvalidField) as bad:
        usage.report(svc, host(signed.account.id), signed.account.id, -1, 1)
    assert bad.value.field == "contacts"
    with pytest.raises(InvalidField):
        usage.report(svc, host(signed.account.id), signed.account.id, 10, 1.5)


def test_auto_upgrade_buys_the_smallest_step_that_holds_the_usage(svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    accounts.set_auto_upgrade(svc, ada, signed.account.id, True)
    clock.set(at(2026, 4, 16))

    result = usage.report(svc, host(signed.account.id), signed.account.id, 2600, 1)

    # 1,000 → 5,000 contacts (2,500 would not hold 2,600): 49 → 119 for 15 of 30 days.
    assert result.auto_upgraded_to == 5000
    assert stored.subscription(svc, signed.account.id).config == config(contacts=5000)
    upgrade = stored.invoices(svc, signed.account.id)[-1]
    assert (upgrade.kind, upgrade.total, upgrade.amount_paid) == ("upgrade", 3500, 3500)
    assert svc.gateway.total_charged() == 4900 + 3500
    assert "purchase_confirmation" in stored.kinds(svc, signed.account.id)
    assert result.thresholds_reached == ()  # 2,600 of 5,000

    exact = usage.report(svc, host(signed.account.id), signed.account.id, 10_000, 1)
    assert exact.auto_upgraded_to == 10_000  # a step equal to the usage holds it
    assert exact.thresholds_reached == (75, 90, 100)


def test_auto_upgrade_never_goes_into_a_custom_price(svc, clock) -> None:
    signed = sign_up(svc, config(tier="pro", contacts=25_000))  # 549; pro 50,000 is custom
    accounts.set_auto_upgrade(svc, admin_of(svc, signed.account.id), signed.account.id, True)

    result = usage.report(svc, host(signed.account.id), signed.account.id, 30_000, 1)

    assert result.auto_upgraded_to is None
    assert result.thresholds_reached == (75, 90, 100)
    assert stored.subscription(svc, signed.account.id).config == config(tier="pro", contacts=25_000)
    assert svc.gateway.total_charged() == 54900
    beyond = usage.report(svc, host(signed.account.id), signed.account.id, 200_000, 1)
    assert beyond.auto_upgraded_to is None


def test_a_failed_auto_upgrade_changes_nothing(svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    accounts.set_auto_upgrade(svc, ada, signed.account.id, True)
    accounts.update_card(svc, ada, signed.account.id, accounts.Card(
        "4000000000000002", 12, 2035, "123"))

    result = usage.report(svc, host(signed.account.id), signed.account.id, 2000, 1)

    assert result.auto_upgraded_to is None
    assert stored.subscription(svc, signed.account.id).config == config()
    assert "change_declined" in [n["kind"] for n in stored.notifications(svc, signed.account.id)]
    assert "payment_failed" not in [n["kind"] for n in stored.notifications(svc, signed.account.id)]


def test_only_the_primary_admin_turns_auto_upgrade_on(svc) -> None:
    signed = sign_up(svc, config(seats=2))
    bea = accounts.add_user(svc, admin_of(svc, signed.account.id), signed.account.id,
                            "bea@example.com", "Bea", "long enough", "admin", True)
    with pytest.raises(Forbidden):
        accounts.set_auto_upgrade(svc, Actor.of_user(bea), signed.account.id, True)


def test_a_plan_without_a_contact_limit_has_no_auto_upgrade(svc) -> None:
    signed = sign_up(svc, config(product="sales", contacts=None))

    with pytest.raises(InvalidField) as refused:
        accounts.set_auto_upgrade(svc, admin_of(svc, signed.account.id), signed.account.id,
                                  True)

    assert (refused.value.field, refused.value.message) == (
        "auto_upgrade", "this plan has no contact limit to raise")
    assert not accounts.account_of(svc, admin_of(svc, signed.account.id),
                                   signed.account.id).auto_upgrade


def test_entitlements_list_features_limits_and_usage(svc, clock) -> None:
    signed = sign_up(svc, config(tier="pro", seats=3, addons=("dedicated_ip",)))
    usage.report(svc, host(signed.account.id), signed.account.id, 420, 2)

    granted = usage.entitlements(svc, host(signed.account.id), signed.account.id)

    assert "predictive_sending" in granted.features and "dedicated_ip" in granted.features
    assert "sso" not in granted.features
    assert (granted.contacts_limit, granted.seats, granted.contacts, granted.active_users,
            granted.restricted) == (1000, 3, 420, 2, False)


def test_entitlements_are_restricted_while_past_due(svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, accounts.Card(
        "4000000000000002", 12, 2035, "123"))
    for day in (1, 3, 5, 7):
        clock.set(at(2026, 5, day))
        renewal.run(svc)

    granted = usage.entitlements(svc, host(signed.account.id), signed.account.id)
    assert granted.restricted
    assert "landing_pages" in granted.features  # read-only, not taken away

    accounts.update_card(svc, ada, signed.account.id, accounts.Card(
        "4242424242424242", 12, 2035, "123"))
    assert not usage.entitlements(svc, host(signed.account.id), signed.account.id).restricted
