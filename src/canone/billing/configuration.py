"""A subscription configuration and its validation against the catalog (SPEC §3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from canone.billing.catalog import Catalog
from canone.billing.errors import InvalidField
from canone.billing.slots import slot_setters

# No tier sells more seats than this, even one without a maximum: it keeps every amount
# exact within Decimal's 28 digits (10**30 seats used to crash the pricing).
SEATS_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True, init=False, eq=False)
class Configuration:
    product: str
    tier: str
    interval: str
    currency: str
    contacts: int | None
    seats: int
    addons: tuple[str, ...] = ()

    def __init__(self, product: str, tier: str, interval: str, currency: str,
                 contacts: int | None, seats: int, addons: tuple[str, ...] = ()) -> None:
        # The fields set through their slots' descriptors (slot_setters): what a frozen
        # dataclass's own __init__ does through object.__setattr__, at half the cost
        # (canone price makes thousands of configurations a run).
        _product(self, product)
        _tier(self, tier)
        _interval(self, interval)
        _currency(self, currency)
        _contacts(self, contacts)
        _seats(self, seats)
        _addons(self, addons)

    def __eq__(self, other: object) -> bool:
        # The dataclass's equality (all fields equal), without building two tuples of all
        # of them: the fields that most often differ first (a plan change compares the two
        # configurations of every pair).
        if type(other) is not Configuration:
            return NotImplemented
        return (self.seats == other.seats and self.contacts == other.contacts
                and self.tier == other.tier and self.addons == other.addons
                and self.interval == other.interval and self.product == other.product
                and self.currency == other.currency)

    def __hash__(self) -> int:  # as the dataclass's, which eq=False leaves out
        return hash((self.product, self.tier, self.interval, self.currency, self.contacts,
                     self.seats, self.addons))

    def with_(self, **changes: object) -> Configuration:
        return replace(self, **changes)  # type: ignore[arg-type]


_product, _tier, _interval, _currency, _contacts, _seats, _addons = slot_setters(Configuration)


# The add-ons of a configuration in normal form, for its product and tier (normal_addons's
# signature less the catalog).
AddonsRule = Callable[[str, str, tuple[str, ...]], tuple[str, ...]]


def validate(catalog: Catalog, config: Configuration, addons_rule: AddonsRule | None = None
             ) -> Configuration:
    """The configuration in normal form (add-ons sorted, included ones dropped), or
    `InvalidField` naming the first wrong field and what it allows. `addons_rule` answers
    for the add-ons (default: `normal_addons`); canone price passes one that remembers."""
    product = catalog.products.get(config.product)
    if product is None:
        raise InvalidField("product", f"unknown product {config.product!r}; allowed: "
                           + ", ".join(catalog.products))
    plan = product.tiers.get(config.tier)
    if plan is None:
        raise InvalidField("tier", f"{product.code} has no tier {config.tier!r}; allowed: "
                           + ", ".join(product.tiers))
    if config.interval not in catalog.intervals:
        raise InvalidField("interval", f"unknown interval {config.interval!r}; allowed: "
                           + ", ".join(catalog.intervals))
    if config.currency not in catalog.currencies:
        raise InvalidField("currency", f"unknown currency {config.currency!r}; allowed: "
                           + ", ".join(catalog.currencies))
    if not product.has_contacts:
        if config.contacts is not None:
            raise InvalidField("contacts", f"{product.code} has no contact limit; use null")
    elif config.contacts is None or catalog.step_index(config.contacts) is None:
        raise InvalidField("contacts", f"{config.contacts!r} is not a contact step; allowed: "
                           + ", ".join(str(s) for s in catalog.contact_steps))
    if config.seats < 1:
        raise InvalidField("seats", "must be at least 1")
    if plan.max_seats is not None and config.seats > plan.max_seats:
        raise InvalidField("seats", f"{product.code} {plan.tier} allows at most "
                           f"{plan.max_seats} seats")
    if config.seats > SEATS_LIMIT:
        raise InvalidField("seats", f"must be at most {SEATS_LIMIT}")
    if config.addons == ():  # nothing to normalise
        return config
    if addons_rule is None:
        addons = normal_addons(catalog, product.code, plan.tier, config.addons)
    else:
        addons = addons_rule(product.code, plan.tier, config.addons)
    if addons == config.addons:
        return config
    # The constructor, not dataclasses.replace: several times cheaper, on a hot path.
    return Configuration(config.product, config.tier, config.interval, config.currency,
                         config.contacts, config.seats, addons)


def normal_addons(catalog: Catalog, product: str, tier: str, addons: tuple[str, ...]
                  ) -> tuple[str, ...]:
    """`addons` of a configuration of `product` and `tier` sorted, those the tier includes
    dropped; or `InvalidField` (an unknown one, one not sold with the tier, one twice)."""
    kept = []
    for code in addons:
        addon = catalog.addons.get(code)
        if addon is None:
            raise InvalidField("addons", f"unknown add-on {code!r}; allowed: "
                               + ", ".join(catalog.addons))
        if addon.is_included(product, tier):
            continue
        if not addon.is_available(product, tier):
            raise InvalidField("addons", f"{code} is not available on {product} {tier}")
        kept.append(code)
    if len(set(addons)) != len(addons):
        raise InvalidField("addons", "lists an add-on more than once")
    return tuple(sorted(kept))
