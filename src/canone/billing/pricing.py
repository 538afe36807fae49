"""The price of one period of a configuration, as keyed lines (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from canone.billing.catalog import Catalog
from canone.billing.configuration import Configuration
from canone.billing.money import round_money

OK = "ok"
CUSTOM = "custom"

INTERVAL_WORDS = {"month": "monthly", "year": "yearly"}


@dataclass(frozen=True, slots=True)
class Line:
    key: str  # "base", "seats" or "addon:<code>"
    description: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Price:
    config: Configuration
    status: str  # OK, or CUSTOM when a price it needs is negotiated with sales
    lines: tuple[Line, ...]

    @property
    def total(self) -> Decimal | None:
        if self.status == CUSTOM:
            return None
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def amounts(self) -> dict[str, Decimal]:
        return {line.key: line.amount for line in self.lines}


def describe_plan(catalog: Catalog, config: Configuration) -> str:
    product = catalog.products[config.product]
    text = f"{product.name} {config.tier.capitalize()}"
    if config.contacts is not None:
        text += f", {config.contacts:,} contacts"
    return text


def price(catalog: Catalog, config: Configuration) -> Price:
    """Price a validated configuration (see `configuration.validate`)."""
    plan = catalog.plan(config.product, config.tier)
    factor = catalog.interval_factor(config.interval)
    every = INTERVAL_WORDS[config.interval]
    lines: list[Line] = []
    status = OK
    if plan.base is not None and config.contacts is not None:
        monthly = plan.base[catalog.step_index(config.contacts) or 0]
        if monthly is None:
            status = CUSTOM
        elif monthly:
            lines.append(Line("base", f"{describe_plan(catalog, config)}, {every}",
                              round_money(monthly * factor)))
    extra = config.seats - plan.seats_included
    if extra > 0 and plan.extra_seat:
        noun = "user seat" if plan.seats_included == 0 else "extra user seat"
        seats = f"{extra} {noun}{'s' if extra > 1 else ''}"
        if plan.seats_included == 0:  # the only line of a plan priced by seat: name it
            seats = f"{describe_plan(catalog, config)}, {seats}"
        lines.append(Line("seats", f"{seats}, {every}",
                          round_money(extra * plan.extra_seat * factor)))
    for code in config.addons:
        addon = catalog.addons[code]
        if addon.price:
            lines.append(Line(f"addon:{code}", f"{addon.name} add-on, {every}",
                              round_money(addon.price * factor)))
    return Price(config, status, tuple(lines))
