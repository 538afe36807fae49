"""Clocks, in one place: the host's clock, and the clock that stands still until it is moved
(the demo's seeding, the benchmarks and the tests). The test clock of test mode, whose time
is kept in the database so that every process sees `canone clock advance`, is
`db.clock.StoredTestClock`; `move_test_clock` sets it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from canone.services.context import Services


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that shows `now` until it is set or advanced."""

    def __init__(self, now: datetime) -> None:
        self.instant = now

    def now(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)

    def move_forward_to(self, instant: datetime) -> None:
        """Set it to `instant` unless that is earlier: time that only moves forward."""
        self.instant = max(self.instant, instant)


def move_test_clock(svc: Services, to: datetime) -> None:
    """Set the test clock to `to`. The caller checks test mode, who asks, and that the clock
    moves forward (each says so in its own words: an API problem, a CLI message)."""
    with svc.database.transaction() as store:
        store.set_clock_override(to)
