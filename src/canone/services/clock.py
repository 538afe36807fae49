"""The test clock: in test mode, billing time can be moved forward to try renewals. Its time
is kept in the database, so the CLI, the web app and workers in other processes all see it."""

from __future__ import annotations

from datetime import datetime

from canone.services.context import Services


def move_test_clock(svc: Services, to: datetime) -> None:
    """Set the test clock to `to`. The caller checks test mode, who asks, and that the clock
    moves forward (each says so in its own words: an API problem, a CLI message)."""
    with svc.database.transaction() as store:
        store.set_clock_override(to)
