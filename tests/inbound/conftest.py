"""Inbound email on a real database, through the real inbound SMTP server that
`canone mail listen` runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canone.db.database import Database
from canone.integrations.inbound_requests import listen
from canone.services.context import Services
from clocks import TestClock
from integrations.smtp_server import free_port
from outbox.support import START
from wiring import services_on


@pytest.fixture
def svc(database: Database, tmp_path: Path) -> Services:
    clock = TestClock(START)
    return services_on(database, clock, tmp_path / "sandbox.db")


@pytest.fixture
def inbound_port(svc: Services) -> Iterator[int]:
    """The port of the inbound SMTP server, wired as `canone mail listen` wires it."""
    port = free_port()
    controller = listen(svc, "127.0.0.1", port)
    try:
        yield port
    finally:
        controller.stop()
