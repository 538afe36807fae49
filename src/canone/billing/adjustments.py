"""Changes that support applies at once, whatever their direction (SPEC §5): the unused
part of the current lines is credited and the new lines are charged for the rest of the
period; a change of interval starts a new period on the day."""

from __future__ import annotations

from datetime import date

from canone.billing.catalog import Catalog
from canone.billing.changes import UPGRADE, Change, credit_lines, proration_lines
from canone.billing.configuration import Configuration
from canone.billing.entitlements import features
from canone.billing.periods import period_containing
from canone.billing.pricing import price


def applied_now(catalog: Catalog, current: Configuration, target: Configuration, anchor: date,
                day: date) -> Change:
    period = period_containing(anchor, current.interval, day)
    remaining = period.remaining_days(day)
    old, new = price(catalog, current), price(catalog, target)
    new_anchor = None
    if target.interval != current.interval:
        lines = credit_lines(old, remaining, period.days) + new.lines
        new_anchor = day
    else:
        lines = proration_lines(old, new, remaining, period.days)
    have, want = features(catalog, current), features(catalog, target)
    return Change(UPGRADE, (), current, target, target, None, period, remaining, lines,
                  tuple(sorted(have - want)), tuple(sorted(want - have)), new_anchor)
