"""Plan changes: classification, the immediate and scheduled configurations, and per-day
proration (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from canone.billing.catalog import Catalog
from canone.billing.configuration import Configuration, normal_addons, validate
from canone.billing.entitlements import features
from canone.billing.errors import InvalidField
from canone.billing.money import ZERO, prorate
from canone.billing.periods import MONTHS_PER_INTERVAL, Period, period_bounds
from canone.billing.pricing import CUSTOM, Line, Price, PriceParts

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


class Rules(PriceParts):
    """What a plan change asks of the catalog: configurations validated and priced (from
    their parts), the features a change loses and gains. Each answer is computed when
    asked; `canone price`, which asks the same questions thousands of times a run, passes
    rules that remember them (price_memos.RememberingRules): the core keeps no cache."""

    def validate(self, config: Configuration) -> Configuration:
        return validate(self.catalog, config, self.normal_addons)

    def normal_addons(self, product: str, tier: str, addons: tuple[str, ...]
                      ) -> tuple[str, ...]:
        """configuration.normal_addons: what `validate` asks of the add-ons."""
        return normal_addons(self.catalog, product, tier, addons)

    def request_reasons(self, current: Configuration, target: Configuration
                        ) -> tuple[str, ...]:
        """Why the change is refused for self-serve, before prices are asked: they depend on
        the product, tier, interval, currency and add-ons of each, not on the numbers."""
        return _request_reasons(self.catalog, current, target)

    def features_changed(self, current: Configuration, target: Configuration
                         ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The features lost and gained, sorted."""
        have, want = features(self.catalog, current), features(self.catalog, target)
        return tuple(sorted(have - want)), tuple(sorted(want - have))


class Decision(NamedTuple):
    """What moving from `current` to `target` decides whatever the day: the kind, the
    configurations in effect, the features, and which lines the change bills. On a day, the
    `prorated` lines are billed for the days left of the period (a credit or a charge) and
    the `whole` ones in full (a longer interval starts a new period on the day).

    A named tuple, not a frozen dataclass: `canone price` decides a new pair on most lines,
    and a frozen dataclass sets each of its eleven fields through object.__setattr__."""

    kind: str
    reasons: tuple[str, ...]
    current: Configuration
    target: Configuration
    immediate: Configuration
    scheduled: Configuration | None
    features_lost: tuple[str, ...]
    features_gained: tuple[str, ...]
    prorated: tuple[tuple[Line, bool], ...] = ()  # (line, a credit) in the order billed
    whole: tuple[Line, ...] = ()
    new_period: bool = False

    def on(self, period: Period, day: date) -> Change:
        """The change on `day`, in `period` (the current configuration's period of it)."""
        remaining, days = period.remaining_days(day), period.days
        lines = tuple(prorated(line, remaining, days, credit)
                      for line, credit in self.prorated) + self.whole
        return Change(self.kind, self.reasons, self.current, self.target, self.immediate,
                      self.scheduled, period, remaining, lines, self.features_lost,
                      self.features_gained, day if self.new_period else None)


def plan_change(
    catalog: Catalog, current: Configuration, target: Configuration, anchor: date, day: date,
    rules: Rules | None = None,
) -> Change:
    """What moving from `current` to `target` on local date `day` does. Both configurations
    must be validated; `day` may not precede the anchor. `rules` answers what the change
    asks of the catalog (default: `Rules(catalog)`)."""
    rules = rules or Rules(catalog)
    period = period_on(anchor, current.interval, day)
    return decide(catalog, current, target, rules).on(period, day)


def decide(catalog: Catalog, current: Configuration, target: Configuration, rules: Rules
           ) -> Decision:
    """The part of `plan_change` that does not depend on the day."""
    lost, gained = rules.features_changed(current, target)
    # Decision(kind, reasons, current, target, immediate, scheduled, lost, gained, ...),
    # built at each return: most lines of canone price decide a new pair.
    if target == current:
        return Decision(NONE, (), current, target, current, None, lost, gained)
    longer = MONTHS_PER_INTERVAL[target.interval] > MONTHS_PER_INTERVAL[current.interval]
    reasons = rules.request_reasons(current, target)
    try:
        immediate = target if longer else _immediate(rules, current, target)
    except InvalidField:
        # E.g. 5 seats kept on starter (max 3) on the way down from plus: the change is
        # refused anyway and nothing takes effect, so that is no error (SPEC §4).
        if not reasons:
            raise
        return Decision(REQUEST, reasons + _custom_reason(rules, current, target), current,
                        target, current, None, lost, gained)
    current_price, immediate_price = rules.price(current), rules.price(immediate)
    # Most often the same object: `is` first spares the dataclass's __eq__, a Python call.
    same = immediate is target or immediate == target
    target_price = immediate_price if same else rules.price(target)
    if CUSTOM in (current_price.status, target_price.status, immediate_price.status):
        reasons += (CUSTOM_PRICE,)
    if reasons:
        return Decision(REQUEST, reasons, current, target, current, None, lost, gained)
    if longer:
        return Decision(UPGRADE, (), current, target, target, None, lost, gained,
                        credited(current_price), target_price.lines, True)
    if immediate == current:
        return Decision(SCHEDULED, (), current, target, current, target, lost, gained)
    return Decision(UPGRADE, (), current, target, immediate, None if same else target,
                    lost, gained, proration_pairs(current_price, immediate_price))


def period_on(anchor: date, interval: str, day: date) -> Period:
    """The billing period that `day` falls in; `day` may not precede the anchor."""
    return Period(*period_bounds_on(anchor, interval, day))


def period_bounds_on(anchor: date, interval: str, day: date) -> tuple[int, date, date]:
    """`period_on`'s index, start and end (periods.period_bounds)."""
    if day < anchor:
        raise InvalidField("at", f"{day} is before the subscription's anchor date {anchor}")
    try:
        return period_bounds(anchor, interval, day)
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


def prorated(line: Line, remaining: int, days: int, credit: bool) -> Line:
    """The credit for the unused part of `line` (negative), or the charge for it."""
    if credit:
        return Line(line.key, f"Unused time on {line.description} ({remaining} of {days} days)",
                    -prorate(line.amount, remaining, days))
    return Line(line.key, f"Remaining time on {line.description} ({remaining} of {days} days)",
                prorate(line.amount, remaining, days))


def credited(old: Price) -> tuple[tuple[Line, bool], ...]:
    return tuple((line, True) for line in old.lines)


def credit_lines(old: Price, remaining: int, days: int) -> tuple[Line, ...]:
    """`credited`, prorated for `remaining` of `days` days."""
    return tuple(prorated(line, remaining, days, credit) for line, credit in credited(old))


def proration_pairs(old: Price, new: Price) -> tuple[tuple[Line, bool], ...]:
    """A credit for every old line whose amount changes and a charge for its new amount:
    the old lines' keys in order, then the keys only the new price has; (line, a credit)."""
    after = {line.key: line for line in new.lines}
    pairs: list[tuple[Line, bool]] = []
    for a in old.lines:  # a price has each key once
        b = after.pop(a.key, None)
        if b is not None and a.amount == b.amount:
            continue
        pairs.append((a, True))
        if b is not None:
            pairs.append((b, False))
    pairs.extend((b, False) for b in after.values())
    return tuple(pairs)


def proration_lines(old: Price, new: Price, remaining: int, days: int) -> tuple[Line, ...]:
    """`proration_pairs`, prorated for `remaining` of `days` days."""
    return tuple(prorated(line, remaining, days, credit)
                 for line, credit in proration_pairs(old, new))
