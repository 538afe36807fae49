"""Billing periods, always computed from the anchor date (SPEC §2): no month-end drift."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

MONTHS_PER_INTERVAL = {"month": 1, "year": 12}


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(anchor: date, months: int) -> date:
    """The anchor moved by `months`, its day clamped to the target month's length."""
    year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    day = anchor.day
    if day > 28:  # only the 29th-31st can need clamping
        length = 29 if month0 == 1 and calendar.isleap(year) else _MONTH_DAYS[month0]
        day = min(day, length)
    return date(year, month0 + 1, day)


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) of period number `index` after the anchor."""

    index: int
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def remaining_days(self, day: date) -> int:
        """Days from `day` to the end, `day` itself included."""
        return (self.end - day).days


def nth_period(anchor: date, interval: str, index: int) -> Period:
    step = MONTHS_PER_INTERVAL[interval]
    return Period(index, add_months(anchor, step * index), add_months(anchor, step * (index + 1)))


def period_containing(anchor: date, interval: str, day: date) -> Period:
    """The period that contains `day` (which must not be before the anchor)."""
    if day < anchor:
        raise ValueError(f"{day} is before the anchor {anchor}")
    return Period(*period_bounds(anchor, interval, day))


def period_bounds(anchor: date, interval: str, day: date) -> tuple[int, date, date]:
    """`period_containing`'s index, start and end, for a `day` not before the anchor: what
    `canone price` writes of a period, once per line, without making one."""
    step = MONTHS_PER_INTERVAL[interval]
    index = ((day.year - anchor.year) * 12 + (day.month - anchor.month)) // step
    start = add_months(anchor, step * index)
    if start > day:  # the estimate is one period late: a day before the anchor's day
        return index - 1, add_months(anchor, step * (index - 1)), start
    return index, start, add_months(anchor, step * (index + 1))
