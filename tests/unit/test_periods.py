"""Billing periods are computed from the anchor (SPEC §2): no month-end drift, leap years."""

from __future__ import annotations

from datetime import date

import pytest

from canone.billing.periods import add_months, nth_period, period_containing


def starts(anchor: date, interval: str, count: int) -> list[date]:
    return [nth_period(anchor, interval, k).start for k in range(count)]


def test_anchor_on_31_january_keeps_the_month_end_through_a_leap_year() -> None:
    periods = [nth_period(date(2024, 1, 31), "month", k) for k in range(12)]
    assert [p.start for p in periods] == [
        date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30),
        date(2024, 5, 31), date(2024, 6, 30), date(2024, 7, 31), date(2024, 8, 31),
        date(2024, 9, 30), date(2024, 10, 31), date(2024, 11, 30), date(2024, 12, 31),
    ]
    assert periods[-1].end == date(2025, 1, 31)
    assert [p.days for p in periods] == [29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31]
    assert sum(p.days for p in periods) == 366


def test_anchor_on_31_january_in_a_common_year_falls_on_28_february() -> None:
    assert starts(date(2026, 1, 31), "month", 13) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
        date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 31), date(2026, 8, 31),
        date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30), date(2026, 12, 31),
        date(2027, 1, 31),
    ]


def test_anchor_on_29_february_returns_to_the_29th_every_month_after() -> None:
    periods = [nth_period(date(2024, 2, 29), "month", k) for k in range(12)]
    assert [p.start for p in periods] == [
        date(2024, 2, 29), date(2024, 3, 29), date(2024, 4, 29), date(2024, 5, 29),
        date(2024, 6, 29), date(2024, 7, 29), date(2024, 8, 29), date(2024, 9, 29),
        date(2024, 10, 29), date(2024, 11, 29), date(2024, 12, 29), date(2025, 1, 29),
    ]
    assert periods[-1].end == date(2025, 2, 28)
    assert nth_period(date(2024, 2, 29), "month", 13).start == date(2025, 3, 29)


def test_yearly_anchor_on_29_february_uses_28_february_until_the_next_leap_year() -> None:
    periods = [nth_period(date(2024, 2, 29), "year", k) for k in range(4)]
    assert [(p.start, p.end, p.days) for p in periods] == [
        (date(2024, 2, 29), date(2025, 2, 28), 365),
        (date(2025, 2, 28), date(2026, 2, 28), 365),
        (date(2026, 2, 28), date(2027, 2, 28), 365),
        (date(2027, 2, 28), date(2028, 2, 29), 366),
    ]


def test_a_yearly_period_has_365_days_or_366_when_it_spans_29_february() -> None:
    assert nth_period(date(2025, 3, 1), "year", 0).days == 365
    assert nth_period(date(2023, 3, 1), "year", 0).days == 366
    assert nth_period(date(2024, 1, 1), "year", 0).days == 366
    assert nth_period(date(2024, 3, 1), "year", 0).days == 365


def test_add_months_always_counts_from_the_anchor() -> None:
    anchor = date(2026, 1, 31)
    assert add_months(anchor, 1) == date(2026, 2, 28)
    assert add_months(anchor, 2) == date(2026, 3, 31)  # not 28 March: no drift
    assert add_months(anchor, -1) == date(2025, 12, 31)


def test_the_period_containing_a_day_counts_that_day_as_remaining() -> None:
    period = period_containing(date(2026, 4, 1), "month", date(2026, 4, 16))
    assert (period.start, period.end, period.days) == (date(2026, 4, 1), date(2026, 5, 1), 30)
    assert period.remaining_days(date(2026, 4, 16)) == 15
    assert period.remaining_days(period.start) == 30


def test_the_last_day_of_a_period_belongs_to_it_and_the_end_to_the_next() -> None:
    anchor = date(2026, 1, 31)
    assert period_containing(anchor, "month", date(2026, 2, 27)).start == date(2026, 1, 31)
    assert period_containing(anchor, "month", date(2026, 2, 28)).start == date(2026, 2, 28)
    assert period_containing(anchor, "month", date(2026, 3, 30)).start == date(2026, 2, 28)
    assert period_containing(anchor, "year", date(2027, 1, 30)).start == date(2026, 1, 31)
    assert period_containing(anchor, "year", date(2027, 1, 31)).start == date(2027, 1, 31)


def test_a_day_before_the_anchor_has_no_period() -> None:
    with pytest.raises(ValueError):
        period_containing(date(2026, 4, 1), "month", date(2026, 3, 31))
