"""Plan changes: classification, the immediate and scheduled configurations, and per-day
proration (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from canone.billing.catalog import Catalog, remember
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


def plan_change(
    catalog: Catalog, current: Configuration, target: Configuration, anchor: date, day: date
) -> Change:
    """What moving from `current` to `target` on local date `day` does. Both configurations
    must be validated; `day` may not precede the anchor."""
    if day < anchor:
        raise InvalidField("at", f"{day} is before the subscription's anchor date {anchor}")
    try:
        period = period_containing(anchor, current.interval, day)
    except (ValueError, OverflowError):  # the period would end after the year 9999
        raise InvalidField("at", f"{day} is too far from the anchor {anchor}: its billing "
                           "period ends after the year 9999") from None
    remaining = period.remaining_days(day)
    lost, gained = _features_changed(catalog, current, target)

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
        immediate = target if longer else _immediate(catalog, current, target)
    except InvalidField:
        # E.g. 5 seats kept on starter (max 3) on the way down from plus: the change is
        # refused anyway and nothing takes effect, so that is no error (SPEC §4).
        if not reasons:
            raise
        return result(REQUEST, current, None,
                      reasons=reasons + _custom_reason(catalog, current, target))
    current_price, immediate_price = price(catalog, current), price(catalog, immediate)
    target_price = immediate_price if immediate == target else price(catalog, target)
    if CUSTOM in (current_price.status, target_price.status, immediate_price.status):
        reasons += (CUSTOM_PRICE,)
    if reasons:
        return result(REQUEST, current, None, reasons=reasons)
    if longer:
        lines = credit_lines(current_price, remaining, period.days) + target_price.lines
        return result(UPGRADE, target, None, lines, new_anchor=day)
    if immediate == current:
        return result(SCHEDULED, current, target)
    lines = proration_lines(current_price, immediate_price, remaining, period.days)
    return result(UPGRADE, immediate, None if immediate == target else target, lines)


def _features_changed(
    catalog: Catalog, current: Configuration, target: Configuration
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The features lost and gained, sorted; remembered per pair of (product, tier, add-ons)."""
    key = (current.product, current.tier, current.addons,
           target.product, target.tier, target.addons)
    memo = catalog.memo("features_changed")
    found: tuple[tuple[str, ...], tuple[str, ...]] | None = memo.get(key)
    if found is None:
        have, want = features(catalog, current), features(catalog, target)
        found = (tuple(sorted(have - want)), tuple(sorted(want - have)))
        remember(memo, key, found)
    return found


def _immediate(catalog: Catalog, current: Configuration, target: Configuration) -> Configuration:
    """The target with every reduction (contacts, seats) postponed to the next period."""
    contacts = target.contacts
    if contacts is not None and current.contacts is not None:
        contacts = max(contacts, current.contacts)
    seats = max(target.seats, current.seats)
    if (contacts, seats) == (target.contacts, target.seats):
        return target
    try:
        return validate(catalog, Configuration(target.product, target.tier, target.interval,
                                               target.currency, contacts, seats, target.addons))
    except InvalidField as exc:
        raise exc.under("target") from None


def _custom_reason(
    catalog: Catalog, current: Configuration, target: Configuration
) -> tuple[str, ...]:
    if CUSTOM in (price(catalog, current).status, price(catalog, target).status):
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


def credit_lines(old: Price, remaining: int, days: int) -> tuple[Line, ...]:
    return tuple(_prorated(line, remaining, days, True) for line in old.lines)


# Prorated lines recur (a handful of line amounts, r and n at most 366): they are remembered.
_PRORATED: dict[tuple[str, str, Decimal, int, int, bool], Line] = {}


def _prorated(line: Line, remaining: int, days: int, credit: bool) -> Line:
    """The credit for the unused part of `line` (negative), or the charge for it."""
    memo_key = (line.key, line.description, line.amount, remaining, days, credit)
    found = _PRORATED.get(memo_key)
    if found is None:
        if credit:
            found = Line(line.key,
                         f"Unused time on {line.description} ({remaining} of {days} days)",
                         -prorate(line.amount, remaining, days))
        else:
            found = Line(line.key,
                         f"Remaining time on {line.description} ({remaining} of {days} days)",
                         prorate(line.amount, remaining, days))
        if len(_PRORATED) >= 65_536:
            _PRORATED.clear()
        _PRORATED[memo_key] = found
    return found


def proration_lines(old: Price, new: Price, remaining: int, days: int) -> tuple[Line, ...]:
    """A credit for every old line whose amount changes and a charge for its new amount:
    the old lines' keys in order, then the keys only the new price has."""
    after = {line.key: line for line in new.lines}
    lines: list[Line] = []
    for a in old.lines:  # a price has each key once
        b = after.pop(a.key, None)
        if b is not None and a.amount == b.amount:
            continue
        lines.append(_prorated(a, remaining, days, True))
        if b is not None:
            lines.append(_prorated(b, remaining, days, False))
    for b in after.values():
        lines.append(_prorated(b, remaining, days, False))
    return tuple(lines)
