"""Pricing a configuration (SPEC §3): keyed lines, custom prices, invalid configurations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canone.billing.catalog import default_catalog
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.pricing import price

CATALOG = default_catalog()


def config(
    product: str = "marketing", tier: str = "plus", interval: str = "month",
    currency: str = "USD", contacts: int | None = 1000, seats: int = 1,
    addons: tuple[str, ...] = (),
) -> Configuration:
    return Configuration(product, tier, interval, currency, contacts, seats, addons)


def amounts(c: Configuration) -> dict[str, Decimal]:
    return price(CATALOG, validate(CATALOG, c)).amounts()


def total(c: Configuration) -> Decimal | None:
    return price(CATALOG, validate(CATALOG, c)).total


def invalid_field(c: Configuration) -> str:
    with pytest.raises(InvalidField) as error:
        validate(CATALOG, c)
    return error.value.field


def test_marketing_plus_at_1000_contacts_costs_49_a_month() -> None:
    assert amounts(config()) == {"base": Decimal("49.00")}
    assert total(config()) == Decimal("49.00")


def test_yearly_amount_is_twelve_months_less_twenty_percent_exactly() -> None:
    assert amounts(config(interval="year")) == {"base": Decimal("470.40")}


def test_every_line_has_its_stable_key_and_the_total_adds_them() -> None:
    c = config(tier="pro", currency="EUR", contacts=2500, seats=5,
               addons=("sms", "dedicated_ip"))
    assert amounts(c) == {
        "base": Decimal("149.00"),
        "seats": Decimal("98.00"),  # 2 seats above the 3 included, at 49
        "addon:dedicated_ip": Decimal("99.00"),
        "addon:sms": Decimal("15.00"),
    }
    assert total(c) == Decimal("361.00")


def test_yearly_lines_are_each_rounded_once() -> None:
    c = config(tier="pro", contacts=2500, seats=5, addons=("sms", "dedicated_ip"),
               interval="year")
    assert amounts(c) == {
        "base": Decimal("1430.40"),
        "seats": Decimal("940.80"),
        "addon:dedicated_ip": Decimal("950.40"),
        "addon:sms": Decimal("144.00"),
    }
    assert total(c) == Decimal("3465.60")


def test_euro_prices_use_the_same_numerals() -> None:
    assert amounts(config(currency="EUR", tier="enterprise", contacts=10000)) == {
        "base": Decimal("499.00")}


def test_sales_is_priced_per_seat_only() -> None:
    assert amounts(config(product="sales", tier="pro", contacts=None, seats=4)) == {
        "seats": Decimal("196.00")}


def test_a_sales_seat_line_names_the_product_it_is_for() -> None:
    lines = price(CATALOG, validate(CATALOG, config("sales", "pro", contacts=None, seats=3))).lines
    assert [(line.key, line.description) for line in lines] == [
        ("seats", "Sales Pro, 3 user seats, monthly")]


def test_seats_up_to_the_included_number_add_no_line() -> None:
    assert amounts(config(product="bundle", seats=3)) == {"base": Decimal("93.00")}
    assert amounts(config(tier="pro", seats=1)) == {"base": Decimal("79.00")}


def test_a_custom_price_keeps_its_priced_lines_and_has_no_total() -> None:
    p = price(CATALOG, validate(CATALOG, config(tier="pro", contacts=50000, seats=5,
                                                addons=("sms",))))
    assert p.status == "custom"
    assert p.total is None
    assert p.amounts() == {"seats": Decimal("98.00"), "addon:sms": Decimal("15.00")}


def test_100000_contacts_is_custom_on_every_tier() -> None:
    for tier in ("starter", "plus", "pro", "enterprise"):
        assert price(CATALOG, config(tier=tier, contacts=100000)).status == "custom"


def test_an_included_add_on_is_accepted_and_ignored() -> None:
    c = validate(CATALOG, config(tier="enterprise", addons=("custom_reporting", "sms")))
    assert c.addons == ("sms",)
    assert price(CATALOG, c).amounts() == {"base": Decimal("145.00"),
                                           "addon:sms": Decimal("15.00")}


def test_add_ons_are_put_in_a_normal_order() -> None:
    c = validate(CATALOG, config(tier="pro", addons=("transactional_email", "sms")))
    assert c.addons == ("sms", "transactional_email")


@pytest.mark.parametrize(
    ("wrong", "field"),
    [
        (config(product="crm"), "product"),
        (config(tier="gold"), "tier"),
        (config(product="sales", tier="starter", contacts=None), "tier"),
        (config(interval="week"), "interval"),
        (config(currency="GBP"), "currency"),
        (config(contacts=1234), "contacts"),
        (config(contacts=None), "contacts"),
        (config(product="sales", contacts=1000), "contacts"),
        (config(seats=0), "seats"),
        (config(seats=-2), "seats"),
        (config(tier="starter", seats=4), "seats"),
        (config(seats=1_000_001), "seats"),  # even where the tier sets no maximum
        (config(seats=10**30), "seats"),
        (config(addons=("fax",)), "addons"),
        (config(product="sales", contacts=None, addons=("sms",)), "addons"),
        (config(addons=("dedicated_ip",)), "addons"),
        (config(addons=("sms", "sms")), "addons"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_an_invalid_configuration_names_the_wrong_field(wrong: Configuration, field: str) -> None:
    assert invalid_field(wrong) == field


def test_a_million_seats_is_still_priced_exactly() -> None:
    assert amounts(config(seats=1_000_000, interval="year")) == {
        "base": Decimal("470.40"), "seats": Decimal("182399817.60")}


def test_marketing_starter_allows_three_seats_at_most() -> None:
    assert amounts(config(tier="starter", seats=3)) == {"base": Decimal("15.00"),
                                                        "seats": Decimal("38.00")}
