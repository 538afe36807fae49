"""Changing a plan (SPEC §4): upgrades, scheduled reductions, requests, proration."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from canone.billing.catalog import default_catalog
from canone.billing.changes import Change, plan_change
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField

CATALOG = default_catalog()
ANCHOR = date(2026, 4, 1)
DAY_16 = date(2026, 4, 16)  # day 16 of the 30-day period [1 Apr, 1 May): 15 days remain


def config(
    product: str = "marketing", tier: str = "plus", interval: str = "month",
    currency: str = "USD", contacts: int | None = 1000, seats: int = 1,
    addons: tuple[str, ...] = (),
) -> Configuration:
    return validate(CATALOG, Configuration(product, tier, interval, currency, contacts, seats,
                                           addons))


def change(current: Configuration, target: Configuration, anchor: date = ANCHOR,
           at: date = DAY_16) -> Change:
    return plan_change(CATALOG, current, target, anchor, at)


def lines(c: Change) -> list[tuple[str, Decimal]]:
    return [(line.key, line.amount) for line in c.lines]


# -- upgrades --------------------------------------------------------------------------------


def test_upgrade_mid_period_credits_unused_time_and_charges_the_rest() -> None:
    """The SPEC's example: marketing plus → enterprise at 1,000 contacts on day 16 of 30."""
    c = change(config(tier="plus"), config(tier="enterprise"))
    assert c.kind == "upgrade"
    assert (c.period.start, c.period.end, c.period.days) == (ANCHOR, date(2026, 5, 1), 30)
    assert c.remaining_days == 15
    assert lines(c) == [("base", Decimal("-24.50")), ("base", Decimal("72.50"))]
    assert c.due_now == Decimal("48.00")
    assert c.credit == Decimal("0.00")
    assert c.immediate == config(tier="enterprise")
    assert c.scheduled is None
    assert c.new_anchor is None


def test_upgrade_features_compare_current_and_target_sorted() -> None:
    c = change(config(tier="plus"), config(tier="enterprise"))
    assert c.features_lost == ()
    assert c.features_gained == (
        "attribution_reporting", "conditional_content", "custom_mail_domain", "custom_objects",
        "custom_reporting", "dedicated_account_team", "predictive_sending", "sandbox_accounts",
        "split_automations", "sso", "uptime_sla",
    )


def test_adding_an_add_on_mid_period_charges_only_its_remaining_days() -> None:
    c = change(config(), config(addons=("sms",)))
    assert c.kind == "upgrade"
    assert lines(c) == [("addon:sms", Decimal("7.50"))]
    assert c.due_now == Decimal("7.50")
    assert c.features_gained == ("sms",)


def test_unchanged_lines_produce_nothing() -> None:
    c = change(config(seats=3, addons=("sms",)), config(seats=3, contacts=2500,
                                                         addons=("sms",)))
    assert lines(c) == [("base", Decimal("-24.50")), ("base", Decimal("34.50"))]
    assert c.due_now == Decimal("10.00")


def test_more_seats_on_a_yearly_plan_are_prorated_over_365_days() -> None:
    anchor = date(2025, 3, 1)  # yearly period [1 Mar 2025, 1 Mar 2026): 365 days
    c = change(config(interval="year"), config(interval="year", seats=2), anchor,
               date(2025, 9, 1))
    assert (c.period.days, c.remaining_days) == (365, 181)
    assert lines(c) == [("seats", Decimal("90.45"))]  # 182.40 · 181 / 365 = 90.4504…


def test_upgrade_on_the_first_day_of_the_period_credits_and_charges_in_full() -> None:
    c = change(config(tier="plus"), config(tier="enterprise"), at=ANCHOR)
    assert c.remaining_days == 30
    assert lines(c) == [("base", Decimal("-49.00")), ("base", Decimal("145.00"))]
    assert c.due_now == Decimal("96.00")


def test_upgrade_that_costs_less_credits_the_balance() -> None:
    """More seats are included in enterprise: 5 seats on pro cost 177, on enterprise 145."""
    c = change(config(tier="pro", seats=5), config(tier="enterprise", seats=5))
    assert c.kind == "upgrade"
    assert lines(c) == [
        ("base", Decimal("-39.50")), ("base", Decimal("72.50")), ("seats", Decimal("-49.00")),
    ]
    assert c.due_now == Decimal("0.00")
    assert c.credit == Decimal("16.00")


def test_included_add_on_is_dropped_silently_on_the_move_to_enterprise() -> None:
    current = config(tier="pro", seats=3, addons=("custom_reporting",))
    for target_addons in ((), ("custom_reporting",)):
        c = change(current, config(tier="enterprise", seats=3, addons=target_addons))
        assert c.kind == "upgrade"
        assert c.reasons == ()
        assert c.immediate.addons == ()
        assert lines(c) == [
            ("base", Decimal("-39.50")), ("base", Decimal("72.50")),
            ("addon:custom_reporting", Decimal("-24.50")),
        ]
        assert c.due_now == Decimal("8.50")
        assert "custom_reporting" not in c.features_lost


def test_sales_to_bundle_is_a_self_serve_upgrade() -> None:
    c = change(config(product="sales", contacts=None, seats=4),
               config(product="bundle", seats=4))
    assert c.kind == "upgrade"
    assert lines(c) == [
        ("seats", Decimal("-38.00")), ("seats", Decimal("9.50")), ("base", Decimal("46.50")),
    ]
    assert c.due_now == Decimal("18.00")
    assert c.features_lost == ()
    assert c.features_gained == (
        "conditional_automations", "email_marketing", "forms", "landing_pages",
        "lead_scoring", "marketing_automation", "site_messages", "site_tracking",
    )


def test_marketing_to_bundle_is_a_self_serve_upgrade() -> None:
    c = change(config(seats=2), config(product="bundle", seats=2))
    assert c.kind == "upgrade"
    assert lines(c) == [
        ("base", Decimal("-24.50")), ("base", Decimal("46.50")), ("seats", Decimal("-9.50")),
    ]
    assert c.due_now == Decimal("12.50")
    assert c.features_gained == ("contact_scoring", "deals_pipelines", "sales_tasks")


def test_move_to_the_bundle_that_costs_less_credits_the_difference() -> None:
    c = change(config(product="sales", tier="enterprise", contacts=None, seats=20),
               config(product="bundle", tier="enterprise", seats=20))
    assert lines(c) == [
        ("seats", Decimal("-990.00")), ("seats", Decimal("495.00")), ("base", Decimal("138.00")),
    ]
    assert c.due_now == Decimal("0.00")
    assert c.credit == Decimal("357.00")


def test_reduction_rides_along_with_an_upgrade_and_is_scheduled() -> None:
    current = config(tier="plus", contacts=2500, seats=4)
    target = config(tier="pro", contacts=1000, seats=4)
    c = change(current, target)
    assert c.kind == "upgrade"
    assert c.immediate == config(tier="pro", contacts=2500, seats=4)
    assert c.scheduled == target
    assert lines(c) == [
        ("base", Decimal("-34.50")), ("base", Decimal("74.50")),
        ("seats", Decimal("-28.50")), ("seats", Decimal("24.50")),
    ]
    assert c.due_now == Decimal("36.00")


def test_fewer_seats_ride_along_with_an_added_add_on() -> None:
    c = change(config(seats=3), config(seats=2, addons=("sms",)))
    assert c.kind == "upgrade"
    assert c.immediate == config(seats=3, addons=("sms",))
    assert c.scheduled == config(seats=2, addons=("sms",))
    assert lines(c) == [("addon:sms", Decimal("7.50"))]


# -- month → year ----------------------------------------------------------------------------


def test_month_to_year_credits_the_monthly_rest_and_charges_a_full_year() -> None:
    current = config(seats=2)  # 49 base + 19 seat, monthly
    target = config(interval="year", seats=1)  # the seat reduction applies at once
    c = change(current, target)
    assert c.kind == "upgrade"
    assert (c.period.start, c.period.end, c.remaining_days) == (ANCHOR, date(2026, 5, 1), 15)
    assert lines(c) == [
        ("base", Decimal("-24.50")), ("seats", Decimal("-9.50")), ("base", Decimal("470.40")),
    ]
    assert c.due_now == Decimal("436.40")
    assert c.immediate == target
    assert c.scheduled is None
    assert c.new_anchor == DAY_16


def test_month_to_year_with_an_upgrade_charges_the_target_year() -> None:
    c = change(config(), config(tier="pro", interval="year", contacts=2500))
    assert lines(c) == [("base", Decimal("-24.50")), ("base", Decimal("1430.40"))]
    assert c.due_now == Decimal("1405.90")
    assert c.new_anchor == DAY_16


# -- reductions, no change -------------------------------------------------------------------


def test_pure_reduction_is_scheduled_for_the_next_period_with_nothing_due() -> None:
    current = config(contacts=5000, seats=3)
    target = config(contacts=2500, seats=2)
    c = change(current, target)
    assert c.kind == "scheduled"
    assert c.lines == ()
    assert (c.due_now, c.credit) == (Decimal("0.00"), Decimal("0.00"))
    assert c.immediate == current
    assert c.scheduled == target


def test_target_equal_to_current_is_kind_none() -> None:
    current = config(tier="pro", seats=4, addons=("sms",))
    c = change(current, config(tier="pro", seats=4, addons=("sms",)))
    assert c.kind == "none"
    assert c.lines == ()
    assert c.due_now == Decimal("0.00")
    assert c.immediate == current
    assert c.scheduled is None
    assert (c.features_lost, c.features_gained) == ((), ())


# -- requests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "reason"),
    [
        (config(tier="pro"), config(tier="plus"), "tier_lower"),
        (config(), config(product="sales", contacts=None), "product_change"),
        (config(product="sales", contacts=None), config(), "product_change"),
        (config(product="bundle"), config(), "product_change"),
        (config(addons=("sms",)), config(), "addon_removed"),
        (config(interval="year"), config(interval="month"), "interval_shorter"),
        (config(), config(currency="EUR"), "currency_change"),
        (config(contacts=50000), config(contacts=100000), "custom_price"),
        (config(tier="enterprise", contacts=25000), config(tier="enterprise", contacts=25000,
                                                           seats=6), "custom_price"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_request_only_change_is_refused_with_its_reason(
    current: Configuration, target: Configuration, reason: str
) -> None:
    c = change(current, target)
    assert c.kind == "request"
    assert c.reasons == (reason,)
    assert c.lines == ()
    assert (c.due_now, c.credit) == (Decimal("0.00"), Decimal("0.00"))
    assert c.immediate == current
    assert c.scheduled is None


def test_a_reduction_into_a_custom_price_is_a_request_too() -> None:
    # The immediate configuration keeps 50,000 contacts on pro, which is custom.
    c = change(config(contacts=50000), config(tier="pro", contacts=25000))
    assert (c.kind, c.reasons) == ("request", ("custom_price",))


def test_a_change_with_any_request_only_part_is_refused_as_a_whole() -> None:
    c = change(config(tier="pro", addons=("sms",)),
               config(tier="plus", currency="EUR", seats=4))
    assert c.kind == "request"
    assert c.reasons == ("tier_lower", "addon_removed", "currency_change")
    assert c.lines == ()
    assert c.features_lost == (
        "attribution_reporting", "conditional_content", "predictive_sending", "sms",
        "split_automations",
    )


def test_lower_tier_with_fewer_seats_allowed_is_a_request_not_an_error() -> None:
    """Keeping the current 5 seats on starter (max 3) is invalid, but nothing takes effect
    for a request, so the change is simply refused for self-serve (SPEC §4)."""
    c = change(config(tier="plus", seats=5), config(tier="starter", seats=2))
    assert (c.kind, c.reasons) == ("request", ("tier_lower",))
    c = change(config(product="bundle", seats=5), config(tier="starter", seats=1))
    assert (c.kind, c.reasons) == ("request", ("tier_lower", "product_change"))


def test_change_before_the_anchor_is_an_error_on_at() -> None:
    with pytest.raises(InvalidField) as error:
        change(config(), config(tier="pro"), anchor=ANCHOR, at=date(2026, 3, 31))
    assert error.value.field == "at"


def test_change_whose_period_would_end_after_year_9999_is_an_error_on_at() -> None:
    with pytest.raises(InvalidField) as error:
        change(config(), config(tier="pro"), anchor=date(9999, 12, 15), at=date(9999, 12, 20))
    assert error.value.field == "at"
