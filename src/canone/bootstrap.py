"""The one place where the adapters are wired to the services: the payment gateway, VIES,
the clock, the invoice PDF renderer (`build_services`), and the worker's mailer and webhook
sender (`worker_of`). The web app, every CLI command, the tests and the benchmarks get them
here; tests and benchmarks pass their fakes to the same functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING

from canone.billing.catalog import catalog_in
from canone.billing.errors import DataFileError
from canone.billing.seller import Seller
from canone.db.clock import StoredTestClock
from canone.db.database import Database
from canone.integrations.payments import SandboxGateway
from canone.integrations.vies import EuVies, FakeVies
from canone.services import change_settlement, einvoice_files, invoice_settlement, signups
from canone.services.clock import SystemClock
from canone.services.context import Services, Settlement
from canone.services.einvoicing import EInvoicing
from canone.services.ports import Clock, InvoiceDocument, InvoiceRenderer, PaymentGateway
from canone.services.sellers import seller_in_effect
from canone.services.vies import Vies
from canone.settings import Settings

if TYPE_CHECKING:
    from canone.integrations.outbox import Worker


def settlements() -> dict[str, Settlement]:
    """How each purpose of payment intent is settled: a plan change, a sign-up, an invoice
    collected. Every entry point (web app, CLI, worker, tests) takes the whole map from
    here, so any process can settle any intent left pending (`canone payments reconcile`)."""
    return {
        "change": change_settlement.CHANGE_SETTLEMENT,
        "signup": signups.SIGNUP_SETTLEMENT,
        "invoice": invoice_settlement.INVOICE_SETTLEMENT,
    }


class SettingsError(ValueError):
    """A setting that cannot be used as given; the message names it."""


def seller_of(settings: Settings) -> Seller:
    try:
        return seller_in_effect(settings.seller)
    except DataFileError as exc:
        raise SettingsError("the seller file has problems:\n  " + "\n  ".join(exc.problems)
                            ) from None


def vies_of(settings: Settings) -> Vies:
    if settings.vies == "fake":
        if not settings.test_mode:
            raise SettingsError("CANONE_VIES=fake confirms any VAT id and is for test mode "
                                "only (CANONE_TEST_MODE=1); unset it to ask the EU's VIES")
        return FakeVies()
    if settings.vies != "eu":
        raise SettingsError(f"CANONE_VIES={settings.vies!r}: allowed: eu (default), fake")
    # The seller as the requester, so that VIES answers with a consultation number (a demo
    # seller's made-up number would make VIES refuse every question).
    seller = seller_of(settings)
    return EuVies(requester=None if seller.demo else seller.vat_id)


class Made(Enum):
    """An adapter that `build_services` makes from the settings (for VIES, where None is a
    choice of its own: no VAT id is ever confirmed)."""

    FROM_SETTINGS = "from settings"


def build_services(settings: Settings, database: Database | None = None, *,
                   clock: Clock | None = None, gateway: PaymentGateway | None = None,
                   vies: Vies | Made | None = Made.FROM_SETTINGS,
                   renderer: InvoiceRenderer | None = None,
                   seller: Seller | Made | None = Made.FROM_SETTINGS,
                   einvoicing: EInvoicing | Made | None = Made.FROM_SETTINGS) -> Services:
    """Services on the adapters of `settings`; each one given replaces its own (tests and
    benchmarks give their clock, gateway or VIES). In test mode the clock is the stored test
    clock, which `canone clock advance` and `POST /api/v1/test-clock` move forward; until it
    is moved it shows `clock`'s time."""
    database = database or Database(settings.database_url)
    clock = clock or SystemClock()
    if settings.test_mode:
        clock = StoredTestClock(database, clock)
    chosen = seller_of(settings) if seller is Made.FROM_SETTINGS else seller
    return Services(
        database=database,
        clock=clock,
        gateway=gateway or gateway_of(settings, clock),
        charges_in_flight=STRIPE_CHARGES_IN_FLIGHT if settings.payments == "stripe" else 1,
        catalog=catalog_in(settings.catalog),
        secret_key=settings.secret_key,
        settlements=settlements(),
        renderer=renderer or PdfOnFirstUse(),
        vies=vies_of(settings) if vies is Made.FROM_SETTINGS else vies,
        seller=chosen,
        einvoicing=(None if chosen is None else einvoicing_of(settings, chosen))
        if einvoicing is Made.FROM_SETTINGS else einvoicing,
    )


def einvoicing_of(settings: Settings, seller: Seller) -> EInvoicing:
    """FatturaPA files for the seller's documents (made only when its file says
    `einvoicing = true`), handed to the folder of `CANONE_SDI_FOLDER`."""
    from canone.integrations.einvoice.fatturapa import FatturaPaBuilder
    from canone.integrations.einvoice.folder import FolderOutbox
    from canone.integrations.einvoice.rates import load_rates

    try:
        rates = load_rates(settings.exchange_rates)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"CANONE_EXCHANGE_RATES: {exc}") from None
    return EInvoicing(seller, FatturaPaBuilder(rates),
                      FolderOutbox(settings.sdi_folder), rates)


class PdfOnFirstUse:
    """The PDF invoice renderer, imported when the first PDF is asked for: fpdf takes most of
    a second to import, which every CLI command and test would otherwise pay."""

    def __init__(self) -> None:
        self._renderer: InvoiceRenderer | None = None

    def render(self, document: InvoiceDocument) -> bytes:
        if self._renderer is None:
            from canone.integrations.invoice_pdf import PdfInvoiceRenderer

            self._renderer = PdfInvoiceRenderer()
        return self._renderer.render(document)


def demo_vies() -> Vies:
    """VIES for `canone demo`: its VAT ids are made up, so it answers as in test mode (a
    checksum-valid id is confirmed)."""
    return FakeVies()


@contextmanager
def worker_of(settings: Settings, services: Services, limit: int = 100) -> Iterator[Worker]:
    """`canone worker`'s outbox runner: emails through `CANONE_SMTP_URL` (unset: printed),
    webhooks through the HTTP sender, PDFs with the services' renderer. The sender's
    connections are closed when the block ends."""
    from canone.integrations.mail import mailer_from_url
    from canone.integrations.outbox import Worker
    from canone.integrations.webhooks import HttpWebhookSender

    mailer = mailer_from_url(settings.smtp_url, settings.mail_from, settings.mail_reply_to)
    with HttpWebhookSender(allow_private=settings.webhooks_allow_private) as sender:
        yield Worker(services.database, services.clock, mailer, services.renderer, sender,
                     limit, settings.public_url, also=lambda: einvoice_files.exchange(services))


def needs_migration(services: Services) -> bool:
    """Whether the database must first be brought up to date (`canone db upgrade`)."""
    database = services.database
    return hasattr(database, "is_migrated") and not database.is_migrated()


def wall_clock() -> Clock:
    """The host's clock, for what must never follow the test clock (sign-in throttling)."""
    return SystemClock()


# A batch's calls to Stripe at once (each with its own idempotency key): at 100-500 ms a
# call, 16-80 calls a second from one worker, under Stripe's default live-mode limit of 100
# a second (several billing-run workers share that limit).
STRIPE_CHARGES_IN_FLIGHT = 8


def gateway_of(settings: Settings, clock: Clock) -> PaymentGateway:
    """The payment gateway of `CANONE_PAYMENTS` (SPEC §9); the sandbox by default."""
    if problems := settings.payment_problems():
        raise ValueError("; ".join(problems))
    if settings.payments == "stripe":
        from canone.integrations.payments.stripe import StripeGateway  # the SDK is large

        key = settings.stripe_secret_key
        if key is None:  # payment_problems names it first; this keeps the type honest
            raise ValueError("CANONE_STRIPE_SECRET_KEY: required when CANONE_PAYMENTS=stripe")
        return StripeGateway(key, settings.stripe_api_version,
                             settings.stripe_api_base)
    return SandboxGateway(settings.sandbox_path, clock)


def payments_line(settings: Settings) -> str:
    """What the start lines of `canone serve` and `canone worker` say about payments."""
    if settings.payments != "stripe":
        return (f"payments: the sandbox card network at {settings.sandbox_path} (demos and tests"
                " only; no money moves)")
    from canone.integrations.payments.stripe import pinned_api_version

    version = settings.stripe_api_version or pinned_api_version()
    mode = "test" if (settings.stripe_secret_key or "").startswith(("sk_test_", "rk_test_")) \
        else "live"
    return (f"payments: Stripe ({mode} mode), API version {version}; the Stripe webhook"
            " endpoint must use this same API version")
