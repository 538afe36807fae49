"""`bootstrap.build_services`, the one wiring of the adapters: what it makes from the
settings, and that an adapter a test or benchmark gives replaces its own."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from canone.bootstrap import PdfOnFirstUse, build_services
from canone.db.clock import StoredTestClock
from canone.db.database import Database
from canone.integrations.einvoice.folder import FolderOutbox
from canone.integrations.invoice_pdf import PdfInvoiceRenderer
from canone.integrations.payments import SandboxGateway
from canone.integrations.vies import EuVies, FakeVies
from canone.services.clock import ManualClock, SystemClock
from canone.services.ports import InvoiceDocument
from canone.settings import Settings

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def test_the_settings_make_every_adapter(sqlite_database: Database, tmp_path: Path) -> None:
    settings = Settings(secret_key="s" * 16, sandbox_path=str(tmp_path / "sandbox.db"))
    svc = build_services(settings, sqlite_database)
    assert isinstance(svc.clock, SystemClock)
    assert isinstance(svc.gateway, SandboxGateway) and svc.gateway.clock is svc.clock
    assert svc.gateway.path == str(tmp_path / "sandbox.db")
    assert isinstance(svc.vies, EuVies)
    assert isinstance(svc.renderer, PdfOnFirstUse)
    assert svc.secret_key == "s" * 16
    assert set(svc.settlements) == {"change", "signup", "invoice"}
    # The demo seller files e-invoices: FatturaPA files for the folder of CANONE_SDI_FOLDER.
    assert svc.seller is not None and svc.einvoicing is not None
    assert svc.einvoicing.seller is svc.seller and svc.einvoicing.files
    assert isinstance(svc.einvoicing.outbox, FolderOutbox)
    assert svc.einvoicing.outbox.folder == Path("canone-sdi")


def test_given_adapters_replace_those_of_the_settings(sqlite_database: Database,
                                                      tmp_path: Path) -> None:
    clock = ManualClock(START)
    gateway = SandboxGateway(tmp_path / "given.db", clock)
    svc = build_services(Settings(sandbox_path=str(tmp_path / "unused.db")), sqlite_database,
                         clock=clock, gateway=gateway, vies=None)
    assert svc.clock is clock and svc.gateway is gateway and svc.vies is None
    assert svc.now() == START
    assert not (tmp_path / "unused.db").exists()


def test_test_mode_keeps_the_clock_in_the_database(sqlite_database: Database,
                                                    tmp_path: Path) -> None:
    settings = Settings(test_mode=True, vies="fake", sandbox_path=str(tmp_path / "s.db"))
    svc = build_services(settings, sqlite_database, clock=ManualClock(START))
    assert isinstance(svc.clock, StoredTestClock) and isinstance(svc.vies, FakeVies)
    assert svc.now() == START  # until `canone clock advance` moves it
    with sqlite_database.transaction() as store:
        store.set_clock_override(datetime(2026, 5, 1, tzinfo=UTC))
    assert isinstance(svc.gateway, SandboxGateway)
    assert svc.now() == svc.gateway.clock.now() == datetime(2026, 5, 1, tzinfo=UTC)


def test_the_pdf_renderer_is_made_with_the_first_pdf() -> None:
    renderer = PdfOnFirstUse()
    assert renderer._renderer is None  # fpdf is not imported for commands that print none
    pdf = renderer.render(InvoiceDocument(
        locale="en", currency="EUR", number="2026-000001", issued_on=START.date(),
        period_start=None, period_end=None, seller_name="ACME", seller_address=("Via Roma 1",),
        buyer_name="Ada", buyer_email="ada@example.com", lines=(), total=Decimal("0.00"),
        credit_applied=Decimal("0.00"), amount_paid=Decimal("0.00"),
        amount_due=Decimal("0.00"), status="paid"))
    assert pdf.startswith(b"%PDF-")
    assert isinstance(renderer._renderer, PdfInvoiceRenderer)
