"""Shared test set-up. Under CI=true a skipped test fails the run: CI has every service."""

from __future__ import annotations

import os

import pytest
from argon2 import PasswordHasher

from canone.services import accounts

IN_CI = os.environ.get("CI", "").lower() == "true"

# Fixtures for a migrated database on SQLite and PostgreSQL (tests/dbfixtures.py), and
# localstripe, the Stripe of the tests (tests/stripefixtures.py).
pytest_plugins = ["dbfixtures", "stripefixtures"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: the tests sign up hundreds of accounts; hashes stay real."""
    monkeypatch.setattr(accounts, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} skipped test(s) count as failures", red=True
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the in-memory store's run of a test marked `sql` (deselected: it is not a
    skip, as it is not missing a service; it needs SQL itself)."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        on_memory = params is not None and params.params.get("database") == "memory"
        (dropped if on_memory and item.get_closest_marker("sql") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
