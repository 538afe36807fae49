"""The catalog as data: products, tiers, prices, seats, add-ons and features (SPEC §1).

`load_catalog` reads a TOML file and validates all of it, collecting every problem with its
location before raising one `CatalogError`, so a catalog author fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from canone.billing.data_files import TreeReader, packaged_text, parse_toml, read_text
from canone.billing.errors import CatalogError
from canone.billing.periods import MONTHS_PER_INTERVAL

CUSTOM = "custom"

# What `_CatalogReader.raw_plans` finds: products' tables by code, their plans' tables by code and
# tier, and each (product, tier) plan's own features.
_RawProducts = tuple[dict[str, dict[str, Any]], dict[str, dict[str, dict[str, Any]]],
                     dict[tuple[str, str], frozenset[str]]]


@dataclass(frozen=True, slots=True)
class TierPlan:
    """What one tier of one product costs and grants."""

    product: str
    tier: str
    # Monthly base price per contact step; None = custom. The tuple itself is None for a
    # product without a contact limit (priced per seat only).
    base: tuple[Decimal | None, ...] | None
    seats_included: int
    extra_seat: Decimal
    max_seats: int | None
    features: frozenset[str]  # cumulative: this tier's own and every lower tier's


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    name: str
    has_contacts: bool
    tiers: Mapping[str, TierPlan]
    upgrade_from: frozenset[str]


@dataclass(frozen=True, slots=True)
class AddOn:
    code: str
    name: str
    price: Decimal
    available: Mapping[str, frozenset[str]]  # product → tiers where it can be bought
    included: Mapping[str, frozenset[str]]  # product → tiers where it is part of the tier

    def is_included(self, product: str, tier: str) -> bool:
        return tier in self.included.get(product, ())

    def is_available(self, product: str, tier: str) -> bool:
        return tier in self.available.get(product, ())


@dataclass(frozen=True)
class Catalog:
    version: str
    currencies: tuple[str, ...]
    intervals: tuple[str, ...]
    yearly_discount: Decimal
    tiers: tuple[str, ...]
    contact_steps: tuple[int, ...]
    products: Mapping[str, Product]
    addons: Mapping[str, AddOn]
    _tier_rank: Mapping[str, int] = field(init=False, repr=False)
    _step_index: Mapping[int, int] = field(init=False, repr=False)
    _factors: Mapping[str, Decimal] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tier_rank", {t: i for i, t in enumerate(self.tiers)})
        object.__setattr__(self, "_step_index", {s: i for i, s in enumerate(self.contact_steps)})
        object.__setattr__(self, "_factors", {
            interval: Decimal(months) if months == 1 else months * (1 - self.yearly_discount)
            for interval, months in MONTHS_PER_INTERVAL.items()})

    def tier_rank(self, tier: str) -> int:
        return self._tier_rank[tier]

    def step_index(self, contacts: int) -> int | None:
        return self._step_index.get(contacts)

    def interval_factor(self, interval: str) -> Decimal:
        """Multiplier from a monthly amount to the amount of one period of `interval`."""
        return self._factors[interval]

    def plan(self, product: str, tier: str) -> TierPlan:
        return self.products[product].tiers[tier]


def default_catalog() -> Catalog:
    return parse_catalog_text(packaged_text("catalog.toml"), "catalog.toml")


def load_catalog(path: str | Path) -> Catalog:
    return parse_catalog_text(read_text(Path(path), CatalogError), str(path))


def catalog_in(path: str | None) -> Catalog:
    """The catalog in effect: the file CANONE_CATALOG names, else the default one."""
    return load_catalog(path) if path else default_catalog()


def parse_catalog_text(text: str, source: str) -> Catalog:
    return _CatalogReader(parse_toml(text, source, CatalogError)).read()


class _CatalogReader(TreeReader):
    def read(self) -> Catalog:
        d = self.data
        version = self.string(d, "version", "version")
        currencies = self.codes(d, "currencies")
        intervals = self.intervals(d)
        tiers = self.codes(d, "tiers")
        steps = self.contact_steps(d)
        discount = self.yearly_discount(d)
        meta, plans, own_features = self.raw_plans(d, tiers)
        products = {}
        for code, raw in meta.items():
            products[code] = self.product(code, raw, plans[code], tiers, steps, own_features, meta)
        addons = {}
        for code, raw in self.table(d, "addons", "addons").items():
            addon = self.addon(code, raw, products)
            if addon is not None:
                addons[code] = addon
        if self.problems:
            raise CatalogError(self.problems)
        return Catalog(
            version=version or "",
            currencies=tuple(currencies),
            intervals=tuple(intervals),
            yearly_discount=discount or Decimal(0),
            tiers=tuple(tiers),
            contact_steps=tuple(steps),
            products=products,
            addons=addons,
        )

    def intervals(self, d: dict[str, Any]) -> list[str]:
        intervals = self.codes(d, "intervals")
        for i, interval in enumerate(intervals):
            if interval not in MONTHS_PER_INTERVAL:
                self.problem(f"intervals[{i}]", f"unknown interval {interval!r}; allowed: "
                             + ", ".join(MONTHS_PER_INTERVAL))
        return intervals

    def yearly_discount(self, d: dict[str, Any]) -> Decimal | None:
        discount = self.amount(d.get("yearly_discount", "0"), "yearly_discount")
        if discount is not None and not (0 <= discount < 1):
            self.problem("yearly_discount", "must be at least 0 and below 1")
        return discount

    def raw_plans(self, d: dict[str, Any], tiers: list[str]) -> _RawProducts:
        """Each product's own table, its plans' tables by tier, and each plan's own features
        (before the features of the tiers below it are added)."""
        own_features: dict[tuple[str, str], frozenset[str]] = {}
        plans: dict[str, dict[str, dict[str, Any]]] = {}
        meta: dict[str, dict[str, Any]] = {}
        for code, raw in self.table(d, "products", "products").items():
            where = f"products.{code}"
            if not isinstance(raw, dict):
                self.problem(where, "must be a table")
                continue
            meta[code] = raw
            plans[code] = {}
            for tier, raw_plan in self.table(raw, "tiers", f"{where}.tiers").items():
                twhere = f"{where}.tiers.{tier}"
                if tier not in tiers:
                    self.problem(twhere, f"unknown tier {tier!r}; the catalog's tiers are {tiers}")
                    continue
                if not isinstance(raw_plan, dict):
                    self.problem(twhere, "must be a table")
                    continue
                plans[code][tier] = raw_plan
                own_features[(code, tier)] = frozenset(
                    self.codes(raw_plan, "features", twhere + ".features", required=False)
                )
        return meta, plans, own_features

    def product(
        self,
        code: str,
        raw: dict[str, Any],
        plans: dict[str, dict[str, Any]],
        tiers: list[str],
        steps: list[int],
        own_features: dict[tuple[str, str], frozenset[str]],
        meta: dict[str, dict[str, Any]],
    ) -> Product:
        where = f"products.{code}"
        name = self.string(raw, "name", f"{where}.name") or code
        has_contacts = raw.get("has_contacts")
        if not isinstance(has_contacts, bool):
            self.problem(f"{where}.has_contacts", "must be true or false")
            has_contacts = False
        features_from = self.codes(raw, "features_from", f"{where}.features_from", required=False)
        upgrade_from = self.codes(raw, "upgrade_from", f"{where}.upgrade_from", required=False)
        for key, refs in (("features_from", features_from), ("upgrade_from", upgrade_from)):
            for ref in refs:
                if ref not in meta or ref == code:
                    self.problem(f"{where}.{key}", f"{ref!r} is not another product of the catalog")
        if not plans:
            self.problem(f"{where}.tiers", "a product needs at least one tier")
        result: dict[str, TierPlan] = {}
        cumulative: frozenset[str] = frozenset()
        for tier in tiers:  # in catalog order, so lower tiers' features accumulate
            if tier not in plans:
                continue
            raw_plan = plans[tier]
            twhere = f"{where}.tiers.{tier}"
            cumulative = cumulative | own_features[(code, tier)]
            for source in features_from:
                for lower in tiers[: tiers.index(tier) + 1]:
                    cumulative = cumulative | own_features.get((source, lower), frozenset())
            result[tier] = TierPlan(
                product=code,
                tier=tier,
                base=self.base_prices(raw_plan, twhere, has_contacts, steps),
                seats_included=self.count(raw_plan, "seats_included", twhere, minimum=0) or 0,
                extra_seat=self.amount(raw_plan.get("extra_seat"), f"{twhere}.extra_seat")
                or Decimal(0),
                max_seats=self.count(raw_plan, "max_seats", twhere, minimum=1, required=False),
                features=cumulative,
            )
        return Product(code, name, has_contacts, result, frozenset(upgrade_from))

    def base_prices(
        self, raw: dict[str, Any], where: str, has_contacts: bool, steps: list[int]
    ) -> tuple[Decimal | None, ...] | None:
        base = raw.get("base")
        if not has_contacts:
            if base is not None:
                self.problem(f"{where}.base", "a product without contacts is priced per seat only")
            return None
        if not isinstance(base, list):
            self.problem(f"{where}.base", "missing: one price (or \"custom\") per contact step")
            return None
        if len(base) != len(steps):
            self.problem(
                f"{where}.base",
                f"has {len(base)} prices for {len(steps)} contact steps; give one per step",
            )
        prices: list[Decimal | None] = []
        for i, cell in enumerate(base):
            prices.append(None if cell == CUSTOM else self.amount(cell, f"{where}.base[{i}]"))
        return tuple(prices)

    def addon(self, code: str, raw: Any, products: dict[str, Product]) -> AddOn | None:
        where = f"addons.{code}"
        if not isinstance(raw, dict):
            self.problem(where, "must be a table")
            return None
        name = self.string(raw, "name", f"{where}.name") or code
        price = self.amount(raw.get("price"), f"{where}.price")
        available = self.availability(raw, "available", where, products)
        included = self.availability(raw, "included", where, products)
        for product, both in available.items():
            for tier in sorted(both & included.get(product, frozenset())):
                self.problem(where, f"{product} {tier} has it both available and included")
        if not available and not included:
            self.problem(where, "is neither available nor included anywhere")
        return AddOn(code, name, price or Decimal(0), available, included)

    def availability(
        self, raw: dict[str, Any], key: str, where: str, products: dict[str, Product]
    ) -> dict[str, frozenset[str]]:
        table = raw.get(key, {})
        if not isinstance(table, dict):
            self.problem(f"{where}.{key}", "must be a table of product = [tiers]")
            return {}
        result: dict[str, frozenset[str]] = {}
        for product in table:
            pwhere = f"{where}.{key}.{product}"
            if product not in products:
                self.problem(pwhere, f"unknown product {product!r}")
                continue
            codes = self.codes(table, product, pwhere)
            for tier in codes:
                if tier not in products[product].tiers:
                    self.problem(pwhere, f"{product} has no tier {tier!r}")
            result[product] = frozenset(codes)
        return result

    # -- scalar readers ------------------------------------------------------------------

    def string(self, raw: dict[str, Any], key: str, where: str) -> str | None:
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            self.problem(where, "missing or not a non-empty string")
            return None
        return value

    def table(self, raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = raw.get(key)
        if not isinstance(value, dict) or not value:
            self.problem(where, "missing or empty table")
            return {}
        return value

    def codes(
        self, raw: dict[str, Any], key: str, where: str | None = None, required: bool = True
    ) -> list[str]:
        where = where or key
        value = raw.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(where, "must be a list of codes (strings)")
            return []
        seen = set()
        for v in value:
            if v in seen:
                self.problem(where, f"duplicate code {v!r}")
            seen.add(v)
        return list(value)

    def contact_steps(self, raw: dict[str, Any]) -> list[int]:
        steps = raw.get("contact_steps")
        if not isinstance(steps, list) or not steps or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in steps
        ):
            self.problem("contact_steps", "must be a non-empty list of positive whole numbers")
            return []
        for i in range(1, len(steps)):
            if steps[i] <= steps[i - 1]:
                self.problem(f"contact_steps[{i}]", f"{steps[i]} does not exceed {steps[i - 1]}")
        return steps

    def count(
        self, raw: dict[str, Any], key: str, where: str, minimum: int, required: bool = True
    ) -> int | None:
        value = raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.problem(f"{where}.{key}", f"must be a whole number of at least {minimum}")
            return None
        return value

    def amount(self, value: Any, where: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | str | float):
            self.problem(where, "must be an amount (a number or a decimal string)")
            return None
        try:
            # Floats from TOML go through their shortest repr, never binary expansion.
            amount = Decimal(repr(value) if isinstance(value, float) else str(value))
        except InvalidOperation:
            self.problem(where, f"{value!r} is not an amount")
            return None
        if not amount.is_finite() or amount < 0:
            self.problem(where, "must be a finite amount of at least 0")
            return None
        return amount
