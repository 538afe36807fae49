"""Plan changes: classification, the immediate and scheduled configurations, and per-day
proration (SPEC §4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from canone.billing.catalog import Catalog
from canone.billing.configuration import Configuration, validate
from canone.billing.entitlements import features
from canone.billing.errors import InvalidField
from canone.billing.money import ZERO, prorate
from canone.billing.periods import MONTHS_PER_INTERVAL, Period, period_containing
from canone.billing.pricing import CUSTOM, Line, Price, price

NONE = "none"
UPGRADE = "upgrade"
SCHEDULED = "scheduled"
REQUEST = "request"

# Reasons a change is refused for self-serve, in the order they are reported.
TIER_LOWER = "tier_lower"
PRODUCT_CHANGE = "product_change"
ADDON_REMOVED = "addon_removed"
INTERVAL_SHORTER = "interval_shorter"
CURRENCY_CHANGE = "currency_change"
CUSTOM_PRICE = "custom_price"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    reasons: tuple[str, ...]
    current: Configuration
    target: Configuration
    immediate: Configuration  # in effect from the change date (the current one if nothing applies)
    scheduled: Configuration | None  # in effect from the next period
    period: Period  # the current period
    remaining_days: int
    lines: tuple[Line, ...]  # credits (negative) and charges
    features_lost: tuple[str, ...]
    features_gained: tuple[str, ...]
    new_anchor: date | None  # set when the change starts a new period (month → year)

    @property
    def net(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def due_now(self) -> Decimal:
        return max(ZERO, self.net)

    @property
    def credit(self) -> Decimal:
        return max(ZERO, -self.net)


class Rules:
    """What a plan change asks of the catalog: configurations validated and priced, the
    features a change loses and gains, prorated lines. Each answer is computed when asked;
    `canone price`, which asks the same questions thousands of times a run, passes rules
    that remember them (price_command.RememberingRules): the core keeps no cache."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def validate(self, config: Configuration) -> Configuration:
        return validate(self.catalog, config)

    def price(self, config: Configuration) -> Price:
        return price(self.catalog, config)

    def features_changed(self, current: Configuration, target: Configuration
                         ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The features lost and gained, sorted."""
        have, want = features(self.catalog, current), features(self.catalog, target)
        return tuple(sorted(have - want)), tuple(sorted(want - have))

    def prorated(self, line: Line, remaining: int, days: int, credit: bool) -> Line:
        return prorated(line, remaining, days, credit)


def plan_change(
    catalog: Catalog, current: Configuration, target: Configuration, anchor: date, day: date,
    rules: Rules | None = None,
) -> Change:
    """What moving from `current` to `target` on local date `day` does. Both configurations
    must be validated; `day` may not precede the anchor. `rules` answers what the change
    asks of the catalog (default: `Rules(catalog)`)."""
    rules = rules or Rules(catalog)
    period = _period_on(anchor, current.interval, day)
    remaining = period.remaining_days(day)
    lost, gained = rules.features_changed(current, target)

    def result(kind: str, immediate: Configuration, scheduled: Configuration | None,
               lines: tuple[Line, ...] = (), reasons: tuple[str, ...] = (),
               new_anchor: date | None = None) -> Change:
        return Change(kind, reasons, current, target, immediate, scheduled, period, remaining,
                      lines, lost, gained, new_anchor)

    if target == current:
        return result(NONE, current, None)
    longer = MONTHS_PER_INTERVAL[target.interval] > MONTHS_PER_INTERVAL[current.interval]
    reasons = _request_reasons(catalog, current, target)
    try:
        immediate = target if longer else _immediate(rules, current, target)
    except InvalidField:
        # E.g. 5 seats kept on starter (max 3) on the way down from plus: the change is
        # refused anyway and nothing takes effect, so that is no error (SPEC §4).
        if not reasons:
            raise
        return result(REQUEST, current, None,
                      reasons=reasons + _custom_reason(rules, current, target))
    current_price, immediate_price = rules.price(current), rules.price(immediate)
    target_price = immediate_price if immediate == target else rules.price(target)
    if CUSTOM in (current_price.status, target_price.status, immediate_price.status):
        reasons += (CUSTOM_PRICE,)
    if reasons:
        return result(REQUEST, current, None, reasons=reasons)
    if longer:
        lines = (credit_lines(current_price, remaining, period.days, rules.prorated)
                 + target_price.lines)
        return result(UPGRADE, target, None, lines, new_anchor=day)
    if immediate == current:
        return result(SCHEDULED, current, target)
    lines = proration_lines(current_price, immediate_price, remaining, period.days,
                            rules.prorated)
    return result(UPGRADE, immediate, None if immediate == target else target, lines)


def _period_on(anchor: date, interval: str, day: date) -> Period:
    """The billing period that `day` falls in; `day` may not precede the anchor."""
    if day < anchor:
        raise InvalidField("at", f"{day} is before the subscription's anchor date {anchor}")
    try:
        return period_containing(anchor, interval, day)
    except (ValueError, OverflowError):  # the period would end after the year 9999
        raise InvalidField("at", f"{day} is too far from the anchor {anchor}: its billing "
                           "period ends after the year 9999") from None


def _immediate(rules: Rules, current: Configuration, target: Configuration) -> Configuration:
    """The target with every reduction (contacts, seats) postponed to the next period."""
    contacts = target.contacts
    if contacts is not None and current.contacts is not None:
        contacts = max(contacts, current.contacts)
    seats = max(target.seats, current.seats)
    if (contacts, seats) == (target.contacts, target.seats):
        return target
    try:
        return rules.validate(Configuration(target.product, target.tier, target.interval,
                                            target.currency, contacts, seats, target.addons))
    except InvalidField as exc:
        raise exc.under("target") from None


def _custom_reason(rules: Rules, current: Configuration, target: Configuration
                   ) -> tuple[str, ...]:
    if CUSTOM in (rules.price(current).status, rules.price(target).status):
        return (CUSTOM_PRICE,)
    return ()


def _request_reasons(
    catalog: Catalog, current: Configuration, target: Configuration
) -> tuple[str, ...]:
    reasons = []
    if catalog.tier_rank(target.tier) < catalog.tier_rank(current.tier):
        reasons.append(TIER_LOWER)
    if target.product != current.product and (
        current.product not in catalog.products[target.product].upgrade_from
    ):
        reasons.append(PRODUCT_CHANGE)
    if any(
        code not in target.addons
        and not catalog.addons[code].is_included(target.product, target.tier)
        for code in current.addons
    ):
        reasons.append(ADDON_REMOVED)
    if MONTHS_PER_INTERVAL[target.interval] < MONTHS_PER_INTERVAL[current.interval]:
        reasons.append(INTERVAL_SHORTER)
    if target.currency != current.currency:
        reasons.append(CURRENCY_CHANGE)
    return tuple(reasons)


# The prorated line of (line, remaining days, days of the period, a credit or a charge).
Prorate = Callable[[Line, int, int, bool], Line]


def prorated(line: Line, remaining: int, days: int, credit: bool) -> Line:
    """The credit for the unused part of `line` (negative), or the charge for it."""
    if credit:
        return Line(line.key, f"Unused time on {line.description} ({remaining} of {days} days)",
                    -prorate(line.amount, remaining, days))
    return Line(line.key, f"Remaining time on {line.description} ({remaining} of {days} days)",
                prorate(line.amount, remaining, days))


def credit_lines(old: Price, remaining: int, days: int, prorated: Prorate = prorated
                 ) -> tuple[Line, ...]:
    return tuple(prorated(line, remaining, days, True) for line in old.lines)


def proration_lines(old: Price, new: Price, remaining: int, days: int,
                    prorated: Prorate = prorated) -> tuple[Line, ...]:
    """A credit for every old line whose amount changes and a charge for its new amount:
    the old lines' keys in order, then the keys only the new price has."""
    after = {line.key: line for line in new.lines}
    lines: list[Line] = []
    for a in old.lines:  # a price has each key once
        b = after.pop(a.key, None)
        if b is not None and a.amount == b.amount:
            continue
        lines.append(prorated(a, remaining, days, True))
        if b is not None:
            lines.append(prorated(b, remaining, days, False))
    for b in after.values():
        lines.append(prorated(b, remaining, days, False))
    return tuple(lines)
