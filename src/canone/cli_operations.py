"""`canone db`, `canone billing`, `canone payments` and `canone clock`: migrating the
database and the billing runs an operator starts (or cron). Registered on the `canone` app
by `canone.cli`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from canone.cli_common import fail, group, parse_instant, services_or_exit
from canone.settings import Settings

if TYPE_CHECKING:
    from canone.services.payments import Reconciliation

db_app = group("The database named by CANONE_DATABASE_URL (default sqlite:///canone.db).",
               "Create or migrate the database.")
billing_app = group("Billing runs: renew the periods that ended, collect open invoices.",
                    "Renew ended periods, collect open invoices.")
clock_app = group("The test clock: move time forward to try renewals "
                  "(CANONE_TEST_MODE=1 only).", "Move the test clock (test mode only).")
payments_app = group("Payments: settle the ones whose outcome was lost.",
                     "Settle payments whose outcome was lost.")


@db_app.command("upgrade", short_help="Create or migrate the database.")
def db_upgrade() -> None:
    """Create or migrate the database to the current schema. Run it first, and after each
    upgrade of canone; running it again changes nothing."""
    from canone.db.database import Database

    settings = Settings.from_env()
    Database(settings.database_url).migrate()
    typer.echo(f"database at {settings.database_url.split('@')[-1]} is up to date")


@billing_app.command("run", short_help="Renew ended periods, collect open invoices.")
def billing_run(
    until: Annotated[str | None, typer.Option(
        help="Renew what is due up to this instant: a date 2026-05-01 or a datetime "
             "2026-05-01T09:00:00+02:00 (default: now).", metavar="WHEN")]
    = None,
) -> None:
    """Renew every period that has ended, then collect open invoices; prints what it did.
    Run it from cron, e.g. every hour; two runs at once bill each period once."""
    from rich.progress import Progress

    from canone.services import payments, renewal

    services = services_or_exit(Settings.from_env())
    instant = parse_instant(until, "--until") if until else None
    with Progress(transient=True) as bar:
        task = bar.add_task("renewing", total=None)
        report = renewal.run(services, instant, progress=lambda n: bar.advance(task, n),
                             own_process=True)
    reconciled = payments.reconcile_all(services)
    typer.echo(f"renewed {report.renewed}, cancelled {report.cancelled}, blocked "
               f"{report.blocked}, collected {report.collected}, failed {report.failed}, "
               f"pending {report.pending}, reconciled {reconciled.settled}")
    unsettled(reconciled)


@payments_app.command("reconcile", short_help="Settle payments whose outcome was lost.")
def payments_reconcile() -> None:
    """Settle payments whose outcome was lost (a crash or a card network time-out) by asking
    the card network; prints how many were settled."""
    from datetime import timedelta

    from canone.services import payments

    services = services_or_exit(Settings.from_env())
    reconciled = payments.reconcile_all(services, older_than=timedelta(0))
    typer.echo(f"reconciled {reconciled.settled}")
    unsettled(reconciled)


def unsettled(reconciled: Reconciliation) -> None:
    """Name the payment intents that could not be settled (the others were) and the
    refunds that could not be made, and exit 1."""
    lines = [f"the refund of invoice {r.invoice} could not be made: {r.reason.rstrip('.')};"
             f" it will be tried again by each reconciliation until {r.until:%Y-%m-%d %H:%M}"
             " UTC" for r in reconciled.refunds]
    if reconciled.errors:
        lines.insert(0, f"{len(reconciled.errors)} payment(s) could not be settled and stay "
                        "pending:\n  " + "\n  ".join(reconciled.errors))
    if lines:
        raise fail("\n".join(lines))


@clock_app.command("advance", short_help="Move the test clock forward.")
def clock_advance(
    to: Annotated[str, typer.Option(
        "--to", help="The new now: a date 2026-05-01 or a datetime 2026-05-01T09:00:00Z.",
        metavar="WHEN")],
) -> None:
    """Move the test clock forward (CANONE_TEST_MODE=1 only), then run `canone billing run`
    to renew what became due."""
    from canone.services import clock as test_clock

    settings = Settings.from_env()
    if not settings.test_mode:
        raise fail("the test clock exists only in test mode (CANONE_TEST_MODE=1)")
    services = services_or_exit(settings)
    instant = parse_instant(to, "--to")
    if instant < services.now():
        raise fail(f"--to: {instant.isoformat()} is before the clock's now "
                   f"{services.now().isoformat()}; the clock only moves forward")
    test_clock.move_test_clock(services, instant)
    typer.echo(f"test clock now {instant.isoformat()}")
