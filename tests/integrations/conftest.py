"""Fixtures for the adapter tests: real servers on localhost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .smtp_server import SmtpTestServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server
