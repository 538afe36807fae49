"""The outbox on a real database (SQLite and PostgreSQL), the sandbox card network, a test
clock, a real SMTP server (aiosmtpd) and a real webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canone.db.database import Database
from canone.integrations.invoice_pdf import PdfInvoiceRenderer
from canone.integrations.payments.stripe import StripeGateway
from canone.services.context import Services
from clocks import TestClock
from integrations.smtp_server import SmtpTestServer
from stripefixtures import TEST_KEY
from wiring import services_on

from .support import START


@pytest.fixture
def clock() -> TestClock:
    return TestClock(START)


@pytest.fixture
def svc(database: Database, clock: TestClock, tmp_path: Path) -> Services:
    return services_on(database, clock, tmp_path / "sandbox.db")


@pytest.fixture
def stripe_svc(database: Database, clock: TestClock, stripe_base: str) -> Services:
    """The services on Stripe: localstripe, emptied for the test."""
    return services_on(database, clock, "unused-sandbox.db",
                       gateway=StripeGateway(TEST_KEY, api_base=stripe_base,
                                             network_retries=0))


@pytest.fixture
def renderer() -> PdfInvoiceRenderer:
    return PdfInvoiceRenderer()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server
