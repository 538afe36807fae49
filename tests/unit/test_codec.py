"""The JSON shapes of SPEC §7 (price_command.answer), independent of the command around them."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from canone.billing.catalog import default_catalog, parse_catalog_text
from canone.billing.codec import date_from_json
from canone.billing.errors import InvalidField
from canone.price_command import answer, answer_text

CATALOG = default_catalog()
PLUS: dict[str, Any] = {"product": "marketing", "tier": "plus", "interval": "month",
                        "currency": "USD", "contacts": 1000, "seats": 1, "addons": []}


def target_only(**changes: Any) -> dict[str, Any]:
    return answer(CATALOG, {"current": None, "target": dict(PLUS, **changes)})


def test_a_target_alone_gets_its_price_and_no_change() -> None:
    assert target_only() == {
        "target": {"status": "ok", "lines": [
            {"key": "base", "description": "Marketing Plus, 1,000 contacts, monthly",
             "amount": "49.00"}], "total": "49.00"},
        "change": None,
        "error": None,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("seats", True), ("seats", 1.0), ("contacts", 1000.0), ("contacts", True),
     ("addons", "sms"), ("addons", [1]), ("product", ["marketing"])],
)
def test_a_value_of_the_wrong_json_type_is_an_error_even_after_the_right_one(
    field: str, value: Any
) -> None:
    """True == 1 and 1.0 == 1 in Python: an answer remembered for seats 1 must not be
    given for seats true or 1.0."""
    assert target_only()["error"] is None
    assert target_only(**{field: value})["error"]["field"] == f"target.{field}"


def test_an_included_add_on_is_dropped_from_the_echoed_configuration() -> None:
    result = answer(CATALOG, {
        "current": PLUS, "target": dict(PLUS, tier="enterprise", addons=["custom_reporting"]),
        "anchor": "2026-04-01", "at": "2026-04-16"})
    assert result["change"]["immediate"]["addons"] == []


def test_add_ons_in_any_order_are_the_same_configuration() -> None:
    one = target_only(tier="pro", addons=["sms", "dedicated_ip"])
    other = target_only(tier="pro", addons=["dedicated_ip", "sms"])
    assert one == other
    assert [line["key"] for line in one["target"]["lines"]] == [
        "base", "addon:dedicated_ip", "addon:sms"]


def test_an_unknown_field_in_a_configuration_is_named() -> None:
    assert target_only(colour="red")["error"]["field"] == "target.colour"


def test_a_missing_contacts_field_means_none_which_only_sales_accepts() -> None:
    sales = {k: v for k, v in PLUS.items() if k != "contacts"}
    assert answer(CATALOG, {"target": dict(sales, product="sales")})["error"] is None
    assert answer(CATALOG, {"target": sales})["error"]["field"] == "target.contacts"


def test_a_line_that_is_not_an_object_is_an_error_on_line() -> None:
    assert answer(CATALOG, [1, 2])["error"]["field"] == "line"


def test_the_fast_text_escapes_a_catalog_name_as_json_does() -> None:
    text = resources.files("canone.data").joinpath("catalog.toml").read_text("utf-8")
    named = text.replace('name = "Marketing"', 'name = "Marketing Più \\"X\\""')
    catalog = parse_catalog_text(named, "più.toml")
    request = {"current": PLUS, "target": dict(PLUS, tier="pro", seats=4),
               "anchor": "2026-04-01", "at": "2026-04-16"}
    assert answer_text(catalog, request) == json.dumps(answer(catalog, request))
    assert 'Marketing Pi\\u00f9 \\"X\\" Pro' in answer_text(catalog, request)


@pytest.mark.parametrize("text", ["20260416", "2026-W16-1", "2026-4-16", "2026-04-16T00:00"])
def test_dates_other_than_yyyy_mm_dd_are_refused(text: str) -> None:
    with pytest.raises(InvalidField) as refused:
        date_from_json(text, "at")
    assert refused.value.field == "at"
