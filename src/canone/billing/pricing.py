"""The price of one period of a configuration, as keyed lines (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from canone.billing.catalog import Catalog
from canone.billing.configuration import Configuration
from canone.billing.money import ZERO, round_money
from canone.billing.slots import slot_setters

OK = "ok"
CUSTOM = "custom"

INTERVAL_WORDS = {"month": "monthly", "year": "yearly"}


@dataclass(frozen=True, slots=True, init=False)
class Line:
    key: str  # "base", "seats" or "addon:<code>"
    description: str
    amount: Decimal

    def __init__(self, key: str, description: str, amount: Decimal) -> None:
        # As Configuration's: each field through its slot's descriptor, at half the cost.
        _key(self, key)
        _description(self, description)
        _amount(self, amount)


@dataclass(frozen=True, slots=True, init=False)
class Price:
    config: Configuration
    status: str  # OK, or CUSTOM when a price it needs is negotiated with sales
    lines: tuple[Line, ...]

    def __init__(self, config: Configuration, status: str, lines: tuple[Line, ...]) -> None:
        _config(self, config)  # as Line's
        _status(self, status)
        _lines(self, lines)

    @property
    def total(self) -> Decimal | None:
        if self.status == CUSTOM:
            return None
        return sum([line.amount for line in self.lines], ZERO)

    def amounts(self) -> dict[str, Decimal]:
        return {line.key: line.amount for line in self.lines}


_key, _description, _amount = slot_setters(Line)
_config, _status, _lines = slot_setters(Price)


def describe_plan(catalog: Catalog, config: Configuration) -> str:
    return _plan_name(catalog, config.product, config.tier, config.contacts)


def _plan_name(catalog: Catalog, product: str, tier: str, contacts: int | None) -> str:
    text = f"{catalog.products[product].name} {tier.capitalize()}"
    if contacts is not None:
        text += f", {contacts:,} contacts"
    return text


class PriceParts:
    """A price's lines, each from the few fields it depends on: the base from (product,
    tier, contacts, interval), the seats from (product, tier, contacts, seats, interval), an add-on
    from (code, interval). `canone price` remembers each part (many configurations share
    them); here each is computed when asked."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def base(self, product: str, tier: str, contacts: int | None, interval: str
             ) -> tuple[str, Line | None]:
        """The status (CUSTOM when the base price is negotiated) and the base line, if any."""
        catalog = self.catalog
        plan = catalog.plan(product, tier)
        if plan.base is None or contacts is None:
            return OK, None
        monthly = plan.base[catalog.step_index(contacts) or 0]
        if monthly is None:
            return CUSTOM, None
        if not monthly:
            return OK, None
        return OK, Line("base", f"{_plan_name(catalog, product, tier, contacts)}, "
                                f"{INTERVAL_WORDS[interval]}",
                        round_money(monthly * catalog.interval_factor(interval)))

    def seats(self, product: str, tier: str, contacts: int | None, seats: int, interval: str
              ) -> Line | None:
        catalog = self.catalog
        plan = catalog.plan(product, tier)
        extra = seats - plan.seats_included
        if extra <= 0 or not plan.extra_seat:
            return None
        noun = "user seat" if plan.seats_included == 0 else "extra user seat"
        text = f"{extra} {noun}{'s' if extra > 1 else ''}"
        if plan.seats_included == 0:  # the only line of a plan priced by seat: name it
            text = f"{_plan_name(catalog, product, tier, contacts)}, {text}"
        return Line("seats", f"{text}, {INTERVAL_WORDS[interval]}",
                    round_money(extra * plan.extra_seat * catalog.interval_factor(interval)))

    def addon(self, code: str, interval: str) -> Line | None:
        addon = self.catalog.addons[code]
        if not addon.price:
            return None
        return Line(f"addon:{code}", f"{addon.name} add-on, {INTERVAL_WORDS[interval]}",
                    round_money(addon.price * self.catalog.interval_factor(interval)))

    def price(self, config: Configuration) -> Price:
        """Price a validated configuration (see `configuration.validate`)."""
        product, tier, interval = config.product, config.tier, config.interval
        contacts = config.contacts
        status, base = self.base(product, tier, contacts, interval)
        lines = [] if base is None else [base]
        seats = self.seats(product, tier, contacts, config.seats, interval)
        if seats is not None:
            lines.append(seats)
        for code in config.addons:
            line = self.addon(code, interval)
            if line is not None:
                lines.append(line)
        return Price(config, status, tuple(lines))


def price(catalog: Catalog, config: Configuration) -> Price:
    """Price a validated configuration (see `configuration.validate`)."""
    return PriceParts(catalog).price(config)
