"""The catalog as data (SPEC §1): the default catalog, and broken ones reported in one pass."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from importlib import resources
from pathlib import Path

import pytest

from canone.billing.catalog import Catalog, default_catalog, load_catalog
from canone.billing.configuration import Configuration
from canone.billing.errors import CatalogError
from canone.billing.pricing import price
from datafiles import DATA, validate, with_edits

DEFAULT_TEXT = resources.files("canone.data").joinpath("catalog.toml").read_text("utf-8")
DEFAULT_FILE = DATA / "catalog.toml"
broken = partial(with_edits, DEFAULT_TEXT)  # the default catalog with (old, new) edits


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "catalog.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    return error.value.problems


UNKNOWN_TIER = ('sms]\nname = "SMS"\nprice = 15\navailable = { marketing = ["plus", "pro"',
                'sms]\nname = "SMS"\nprice = 15\navailable = { marketing = ["plus", "gold"')
MISSING_CELL = ('base = [49, 69, 119, 189, 369, 489, "custom"]', 'base = [49, 69, 119, 189, 369]')
BAD_STEP_ORDER = ("contact_steps = [1000, 2500, 5000,", "contact_steps = [1000, 5000, 2500,")
DUPLICATE_CODE = ('currencies = ["USD", "EUR"]', 'currencies = ["USD", "EUR", "USD"]')


# -- the default catalog ---------------------------------------------------------------------


def test_the_default_catalog_loads_with_the_products_tiers_and_steps_of_the_spec() -> None:
    catalog = default_catalog()
    assert list(catalog.products) == ["marketing", "sales", "bundle"]
    assert catalog.tiers == ("starter", "plus", "pro", "enterprise")
    assert list(catalog.products["marketing"].tiers) == ["starter", "plus", "pro", "enterprise"]
    assert list(catalog.products["sales"].tiers) == ["plus", "pro", "enterprise"]
    assert list(catalog.products["bundle"].tiers) == ["plus", "pro", "enterprise"]
    assert catalog.contact_steps == (1000, 2500, 5000, 10000, 25000, 50000, 100000)
    assert catalog.currencies == ("USD", "EUR")
    assert catalog.intervals == ("month", "year")
    assert list(catalog.addons) == ["sms", "custom_reporting", "transactional_email",
                                    "dedicated_ip"]


def test_the_default_catalog_file_loads_from_its_path_like_any_other() -> None:
    catalog = load_catalog(DEFAULT_FILE)
    assert catalog == default_catalog()


def test_a_tier_has_its_own_features_and_every_lower_tiers() -> None:
    catalog = default_catalog()
    starter = catalog.plan("marketing", "starter").features
    plus = catalog.plan("marketing", "plus").features
    assert starter == {"email_marketing", "marketing_automation", "site_tracking", "forms"}
    assert plus == starter | {"landing_pages", "lead_scoring", "site_messages",
                              "conditional_automations"}


def test_the_bundle_has_the_features_of_marketing_and_sales_at_its_tier() -> None:
    catalog = default_catalog()
    assert catalog.plan("bundle", "pro").features == (
        catalog.plan("marketing", "pro").features | catalog.plan("sales", "pro").features)


def test_another_catalog_file_prices_unchanged_code(tmp_path: Path) -> None:
    path = tmp_path / "cheaper.toml"
    path.write_text(broken(('base = [49, 69,', 'base = [39, 69,'),
                           ('yearly_discount = "0.20"', 'yearly_discount = "0.25"')), "utf-8")
    catalog: Catalog = load_catalog(path)
    config = Configuration("marketing", "plus", "year", "USD", 1000, 1)
    assert price(catalog, config).amounts() == {"base": Decimal("351.00")}  # 39 · 12 · 0.75


# -- broken catalogs -------------------------------------------------------------------------


def test_an_unknown_tier_in_an_add_on_is_reported_where_it_is(tmp_path: Path) -> None:
    assert problems_of(tmp_path, broken(UNKNOWN_TIER)) == [
        "addons.sms.available.marketing: marketing has no tier 'gold'"]


def test_a_missing_price_cell_is_reported_on_its_tier(tmp_path: Path) -> None:
    assert problems_of(tmp_path, broken(MISSING_CELL)) == [
        "products.marketing.tiers.plus.base: has 5 prices for 7 contact steps; "
        "give one per step"]


def test_contact_steps_out_of_order_are_reported_at_the_step(tmp_path: Path) -> None:
    assert problems_of(tmp_path, broken(BAD_STEP_ORDER)) == [
        "contact_steps[2]: 2500 does not exceed 5000"]


def test_a_duplicate_code_is_reported(tmp_path: Path) -> None:
    assert problems_of(tmp_path, broken(DUPLICATE_CODE)) == ["currencies: duplicate code 'USD'"]


def test_a_price_that_is_not_an_amount_is_reported_at_its_cell(tmp_path: Path) -> None:
    assert problems_of(tmp_path, broken(("base = [49, 69,", 'base = [49, "lots",'))) == [
        "products.marketing.tiers.plus.base[1]: 'lots' is not an amount"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, broken(UNKNOWN_TIER, MISSING_CELL, BAD_STEP_ORDER,
                                            DUPLICATE_CODE))
    assert sorted(problems) == sorted([
        "addons.sms.available.marketing: marketing has no tier 'gold'",
        "products.marketing.tiers.plus.base: has 5 prices for 7 contact steps; "
        "give one per step",
        "contact_steps[2]: 2500 does not exceed 5000",
        "currencies: duplicate code 'USD'",
    ])


def test_invalid_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, broken(("[addons.sms]", "[addons.sms")))
    assert problem.startswith(f"{tmp_path / 'catalog.toml'}: not valid TOML: ")
    line = DEFAULT_TEXT[: DEFAULT_TEXT.index("[addons.sms]")].count("\n") + 1
    assert f"line {line}," in problem


def test_a_small_catalog_missing_its_sections_lists_each_one(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, 'version = "x"\ntiers = ["plus"]\n')
    assert problems == [
        "currencies: must be a list of codes (strings)",
        "intervals: must be a list of codes (strings)",
        "contact_steps: must be a non-empty list of positive whole numbers",
        "products: missing or empty table",
        "addons: missing or empty table",
    ]


# -- canone catalog validate -----------------------------------------------------------------


def test_catalog_validate_accepts_the_default_catalog() -> None:
    run = validate("catalog", DEFAULT_FILE)
    assert run.returncode == 0
    assert run.stdout.strip() == f"{DEFAULT_FILE}: ok (version 2026-01, 3 products, 4 add-ons)"


def test_catalog_validate_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(broken(UNKNOWN_TIER, BAD_STEP_ORDER), "utf-8")
    run = validate("catalog", path)
    assert run.returncode == 1
    assert sorted(run.stderr.splitlines()) == [
        "addons.sms.available.marketing: marketing has no tier 'gold'",
        "contact_steps[2]: 2500 does not exceed 5000",
    ]
    assert "Traceback" not in run.stderr


def test_catalog_validate_reports_invalid_toml_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("version = \n", "utf-8")
    run = validate("catalog", path)
    assert run.returncode == 1
    assert "not valid TOML" in run.stderr
    assert "Traceback" not in run.stderr


def test_interval_factors_are_part_of_the_catalog() -> None:
    catalog = default_catalog()
    assert catalog.interval_factor("month") == Decimal("1")
    assert catalog.interval_factor("year") == 12 * (1 - catalog.yearly_discount)
    assert catalog == default_catalog()
