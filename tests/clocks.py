"""The advanceable clock the tests hand to the services, as Stripe test clocks: the one
`ManualClock` of canone.services.clock, under a name pytest must not collect."""

from __future__ import annotations

from canone.services.clock import ManualClock


class TestClock(ManualClock):
    __test__ = False  # not a test class, whatever its name
