"""The advanceable clock the tests hand to the services, as Stripe test clocks."""

from __future__ import annotations

from datetime import datetime, timedelta


class TestClock:
    __test__ = False  # not a test class, whatever its name

    def __init__(self, now: datetime) -> None:
        self.instant = now

    def now(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)
