"""The `canone` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from canone.billing.catalog import Catalog, default_catalog, load_catalog
from canone.billing.codec import answer_text
from canone.billing.errors import CatalogError
from canone.settings import Settings

if TYPE_CHECKING:  # only an annotation here; importing it costs every command ~0.05 s
    from canone.services.context import Services


class _Canone(typer.Typer):
    """The typer app, except that a bare `canone price` starts pricing at once: building the
    command tree first imports pydantic for typer's converters, a fifth of the time of a
    20,000-line run (bench/RESULTS.md). Anything else, `canone price --help` included, goes
    through typer as usual."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or sys.argv[1:] != ["price"]:
            return super().__call__(*args, **kwargs)
        try:
            price_command()
        except typer.Exit as exc:  # e.g. a broken catalog named by CANONE_CATALOG
            raise SystemExit(exc.exit_code) from None
        except BrokenPipeError:  # the reader went away, as click handles it: exit 1 quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
        except KeyboardInterrupt:
            typer.echo("Aborted!", err=True)
            raise SystemExit(1) from None
        raise SystemExit(0)


app = _Canone(help="canone: subscription billing and plan management.", no_args_is_help=True)
catalog_app = typer.Typer(help="Work with catalog files.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def catalog_in_effect(settings: Settings) -> Catalog:
    try:
        return load_catalog(settings.catalog) if settings.catalog else default_catalog()
    except CatalogError as exc:
        raise fail("the catalog has problems:\n  " + "\n  ".join(exc.problems)) from None


@catalog_app.command("validate")
def catalog_validate(file: Annotated[Path, typer.Argument(help="A catalog TOML file.")]) -> None:
    """Check a catalog file; print every problem with its location."""
    try:
        catalog = load_catalog(file)
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file}: ok (version {catalog.version}, {len(catalog.products)} products, "
               f"{len(catalog.addons)} add-ons)")


def arrived_lines(stdin: BinaryIO) -> Iterator[list[bytes]]:
    """The input's lines in batches: each batch is the complete lines that have arrived so
    far (one read of what is there, up to 64 KiB), the last one may lack its "\n". Lines split
    only at "\n" (JSON Lines; text mode would also split at a lone "\r")."""
    read = getattr(stdin, "read1", stdin.read)  # read1: what is there, without waiting
    pending: list[bytes] = []
    while chunk := read(1 << 16):
        if b"\n" not in chunk:
            pending.append(chunk)
            continue
        lines = (b"".join(pending) + chunk).split(b"\n")
        pending = [lines.pop()]
        yield lines
    if tail := b"".join(pending):
        yield [tail]


@app.command("price")
def price_command() -> None:
    """Price configurations and plan changes: JSON Lines on stdin → JSON Lines on stdout."""
    catalog = catalog_in_effect(Settings.from_env())
    out = sys.stdout
    dumps, loads = json.dumps, json.loads
    number = 0
    # Bytes in, ASCII out: bad UTF-8 is a bad line (UnicodeDecodeError is a ValueError), and
    # an escaped lone surrogate echoed in an error cannot break the UTF-8 output. The answers
    # to what has arrived go out together at once: one write per batch, not per line (each
    # is a system call under PYTHONUNBUFFERED), and a program that writes a line and waits
    # for its answer gets it.
    for lines in arrived_lines(sys.stdin.buffer):
        texts = []
        for line in lines:
            number += 1
            if not line.strip():
                continue
            try:
                request = loads(line)
            except ValueError as exc:
                texts.append(dumps({"target": None, "change": None, "error": {
                    "field": "line", "message": f"line {number} is not JSON: {exc}"}}))
            else:
                texts.append(answer_text(catalog, request))  # = dumps(answer(...))
        if texts:
            out.write("\n".join(texts) + "\n")
            out.flush()


db_app = typer.Typer(help="The database.", no_args_is_help=True)
billing_app = typer.Typer(help="Billing runs.", no_args_is_help=True)
clock_app = typer.Typer(help="The test clock (test mode only).", no_args_is_help=True)
payments_app = typer.Typer(help="Payments.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(billing_app, name="billing")
app.add_typer(clock_app, name="clock")
app.add_typer(payments_app, name="payments")


def services_or_exit(settings: Settings) -> Services:
    from canone.bootstrap import build_services

    catalog_in_effect(settings)  # a clear message for a broken catalog file
    services = build_services(settings)
    if not services.database.is_migrated():  # type: ignore[attr-defined]
        raise fail("the database is not migrated: run `canone db upgrade` first")
    return services


def parse_instant(value: str, field: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{field}: {value!r} is not a date or datetime (ISO 8601)", 2) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the current schema."""
    from canone.db.database import Database

    settings = Settings.from_env()
    Database(settings.database_url).migrate()
    typer.echo(f"database at {settings.database_url.split('@')[-1]} is up to date")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the web app and the JSON API."""
    import uvicorn

    services_or_exit(Settings.from_env())
    uvicorn.run("canone.web.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning")


@billing_app.command("run")
def billing_run(
    until: Annotated[str | None, typer.Option(help="Renew what is due up to this instant.")]
    = None,
) -> None:
    """Renew every period that has ended, then collect open invoices."""
    from rich.progress import Progress

    from canone.services import payments, renewal

    services = services_or_exit(Settings.from_env())
    instant = parse_instant(until, "--until") if until else None
    with Progress(transient=True) as bar:
        task = bar.add_task("renewing", total=None)
        report = renewal.run(services, instant, progress=lambda n: bar.advance(task, n))
    settled = payments.reconcile(services)
    typer.echo(f"renewed {report.renewed}, cancelled {report.cancelled}, blocked "
               f"{report.blocked}, collected {report.collected}, failed {report.failed}, "
               f"pending {report.pending}, reconciled {settled}")


@payments_app.command("reconcile")
def payments_reconcile() -> None:
    """Settle payments whose outcome was lost (crash or card network time-out)."""
    from datetime import timedelta

    from canone.services import payments

    services = services_or_exit(Settings.from_env())
    typer.echo(f"reconciled {payments.reconcile(services, older_than=timedelta(0))}")


@clock_app.command("advance")
def clock_advance(
    to: Annotated[str, typer.Option("--to", help="The new now (date or datetime).")],
) -> None:
    """Move the test clock forward (CANONE_TEST_MODE=1 only)."""
    settings = Settings.from_env()
    if not settings.test_mode:
        raise fail("the test clock exists only in test mode (CANONE_TEST_MODE=1)")
    services = services_or_exit(settings)
    instant = parse_instant(to, "--to")
    if instant < services.now():
        raise fail(f"--to: {instant.isoformat()} is before the clock's now "
                   f"{services.now().isoformat()}; the clock only moves forward")
    with services.database.transaction() as store:
        store.set_clock_override(instant)
    typer.echo(f"test clock now {instant.isoformat()}")


@app.command("demo")
def demo(
    url: Annotated[str, typer.Option(help="The address printed for the web app.")]
    = "http://127.0.0.1:8000",
) -> None:
    """Seed demo accounts, people and a support agent (once), then print the logins."""
    from canone import demo as demo_data

    services = services_or_exit(Settings.from_env())
    seeded = demo_data.seed(services)
    typer.echo("demo data seeded" if seeded.created
               else "the demo data is already seeded; nothing changed")
    typer.echo(demo_data.logins(services, url.rstrip("/")))


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 5.0,
    limit: Annotated[int, typer.Option(help="Rows claimed per batch.")] = 100,
) -> None:
    """Send queued emails and webhook deliveries (the outbox), every few seconds.

    Renewals are not its job (`canone billing run`). Run as many as you like: rows are
    claimed with SKIP LOCKED and a lease."""
    import logging
    import threading

    from canone.integrations.invoice_pdf import PdfInvoiceRenderer
    from canone.integrations.mail import address_problem, mailer_from_url
    from canone.integrations.outbox import PassReport, Worker
    from canone.integrations.webhooks import HttpWebhookSender

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    for name, value in (("CANONE_MAIL_FROM", settings.mail_from),
                        ("CANONE_MAIL_REPLY_TO", settings.mail_reply_to)):
        problem = value is not None and address_problem(value)
        if problem:
            raise fail(f"{name}: {value!r} {problem}")
    services = services_or_exit(settings)
    mailer = mailer_from_url(settings.smtp_url, settings.mail_from, settings.mail_reply_to)
    with HttpWebhookSender() as sender:
        runner = Worker(services.database, services.clock, mailer, PdfInvoiceRenderer(),
                        sender, limit, settings.public_url)

        def report(emails: PassReport, hooks: PassReport) -> None:
            if emails.claimed or hooks.claimed or once:
                typer.echo(f"emails: sent {emails.done}, retrying {emails.retried}, failed "
                           f"{emails.failed}; webhooks: delivered {hooks.done}, retrying "
                           f"{hooks.retried}")
            for error in emails.errors + hooks.errors:
                typer.echo(f"  {error}", err=True)

        if once:
            report(*runner.run_once())
            return
        stop = threading.Event()
        typer.echo(f"worker: delivering emails and webhooks every {interval:g}s (Ctrl-C stops)")
        try:
            runner.run(interval, stop, report)
        except KeyboardInterrupt:
            stop.set()
            typer.echo("worker stopped")


mail_app = typer.Typer(help="Email.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")


@mail_app.command("listen")
def mail_listen(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
) -> None:
    """Receive email: a message from an account's primary admin becomes a change request
    (unverified, for support to confirm); any other sender is refused with 550."""
    import logging
    import threading

    from canone.integrations.inbound_requests import listen

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    services = services_or_exit(Settings.from_env())
    try:
        controller = listen(services, host, port)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc}") from None
    typer.echo(f"inbound mail: listening on {host}:{port} (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        controller.stop()


apikey_app = typer.Typer(help="API keys of the JSON API.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    operator: Annotated[bool, typer.Option(
        "--operator", help="An operator key: every account, support actions.")] = False,
    account: Annotated[str | None, typer.Option(
        "--account", help="An account key: this account only.")] = None,
) -> None:
    """Create an API key and print it, alone on the last line: it is shown only once."""
    from canone.billing.errors import InvalidField
    from canone.services import apikeys
    from canone.services.errors import NotFound

    if operator == (account is not None):
        raise fail("give either --operator or --account ID", 2)
    settings = Settings.from_env()
    services = services_or_exit(settings)
    try:
        created = apikeys.create(services, name, account, test_mode=settings.test_mode)
    except (InvalidField, NotFound) as exc:
        raise fail(str(exc)) from None
    scope = "operator key (every account)" if operator else f"key for account {account}"
    typer.echo(f"created {scope} {created.key.id} named {name!r}; store it now, it is not "
               "shown again:")
    typer.echo(created.secret)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…).")]) -> None:
    """Revoke a key: requests with it are refused (401) from now on."""
    from canone.services import apikeys
    from canone.services.errors import NotFound

    services = services_or_exit(Settings.from_env())
    try:
        revoked = apikeys.revoke(services, key_id)
    except NotFound as exc:
        raise fail(str(exc)) from None
    typer.echo(f"revoked {revoked.id} ({revoked.name})")


@apikey_app.command("list")
def apikey_list() -> None:
    """Every key: id, scope, name, creation time, and whether it was revoked."""
    from canone.services import apikeys

    services = services_or_exit(Settings.from_env())
    for key in apikeys.list_keys(services):
        scope = "operator" if key.account_id is None else f"account {key.account_id}"
        state = "revoked" if key.revoked else "active"
        typer.echo(f"{key.id}\t{scope}\t{key.name}\t{key.created_at.isoformat()}\t{state}")
