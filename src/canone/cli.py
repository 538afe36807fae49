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
from canone.billing.errors import CatalogError
from canone.cli_einvoices import einvoices_app
from canone.price_command import answer_text
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


def _group(help: str, short_help: str | None = None) -> typer.Typer:
    # Plain click help (rich_markup_mode=None): options read `--port PORT`, flags stand alone,
    # with no type tags such as `<bool>`; and examples keep their lines (`\b`).
    return typer.Typer(help=help, short_help=short_help, no_args_is_help=True,
                       rich_markup_mode=None)


app = _Canone(help="""canone: subscription billing and plan management.

\b
To start: `canone db upgrade`, `canone demo`, `canone serve`, then open
http://127.0.0.1:8000 (or `make run`, which does all three). The database is
CANONE_DATABASE_URL (default sqlite:///canone.db); see README.md for every setting.
`canone COMMAND --help` tells more about each command.""", no_args_is_help=True,
              rich_markup_mode=None)
catalog_app = _group("Check catalog files (the plans, tiers, prices and add-ons).",
                     "Check catalog files.")
app.add_typer(catalog_app, name="catalog")
seller_app = _group("Check seller files (the selling company of SPEC §8: its legal name, "
                    "address, VAT number and tax regime).", "Check seller files.")
app.add_typer(seller_app, name="seller")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def catalog_in_effect(settings: Settings) -> Catalog:
    try:
        return load_catalog(settings.catalog) if settings.catalog else default_catalog()
    except CatalogError as exc:
        raise fail("the catalog has problems:\n  " + "\n  ".join(exc.problems)) from None


@catalog_app.command("validate", short_help="Check a catalog file.")
def catalog_validate(file: Annotated[Path, typer.Argument(metavar="FILE", hidden=True)]
                     ) -> None:
    """Check FILE, a catalog TOML file (e.g. src/canone/data/catalog.toml): print a summary
    and exit 0, or every problem with its location and exit 1. Use it before pointing
    CANONE_CATALOG at the file."""
    try:
        catalog = load_catalog(file)
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file}: ok (version {catalog.version}, {len(catalog.products)} products, "
               f"{len(catalog.addons)} add-ons)")


@seller_app.command("validate", short_help="Check a seller file.")
def seller_validate(file: Annotated[Path, typer.Argument(metavar="FILE", hidden=True)]
                    ) -> None:
    """Check FILE, a seller TOML file (e.g. src/canone/data/seller-demo.toml): print a
    summary and exit 0, or every problem with its location and exit 1. Point
    CANONE_SELLER at it once it passes."""
    from canone.billing.errors import DataFileError
    from canone.services.sellers import load_seller_file

    try:
        seller = load_seller_file(file)
    except DataFileError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    flags = ", ".join(f"{name} {'on' if on else 'off'}"
                      for name, on in (("e-invoicing", seller.einvoicing), ("OSS", seller.oss)))
    typer.echo(f"{file}: ok ({seller.legal_name}, VAT {seller.vat_id}, {flags}"
               + (", a DEMO seller" if seller.demo else "") + ")")


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


def _line_error(message: str) -> str:
    return json.dumps({"target": None, "change": None,
                       "error": {"field": "line", "message": message}})


_PLUS = {"product": "marketing", "tier": "plus", "interval": "month", "currency": "USD",
         "contacts": 1000, "seats": 1, "addons": []}
PRICE_EXAMPLE = json.dumps({"current": _PLUS, "target": {**_PLUS, "tier": "enterprise"},
                            "anchor": "2026-04-01", "at": "2026-04-16"})
PRICE_HELP = f"""Price configurations and plan changes: one JSON object per line on stdin, one
answer per line on stdout, in the same order.

\b
An input line (a current of null prices the target alone; with a current, anchor
is the billing anchor date and at the day of the change, both YYYY-MM-DD):
{PRICE_EXAMPLE}

\b
Its answer line:
{{"target": {{"status", "lines", "total"}}, "change": {{"kind", "reasons", "period",
 "remaining_days", "lines", "due_now", "credit", "immediate", "scheduled",
 "features_lost", "features_gained"}} or null, "error": null}}
kind is upgrade (charged now, prorated), scheduled (from the next period),
request (support must do it) or none. Amounts are strings such as "48.00".

\b
A bad line is answered with "error": {{"field": "target.seats", "message": "..."}}
and the lines after it are still priced; the exit code is 0 once every line
is answered. Example: canone price < examples/price-demo.jsonl"""


@app.command("price", help=PRICE_HELP,
             short_help="Price configurations and plan changes, JSON Lines.")
def price_command() -> None:
    """Price configurations and plan changes (the help is PRICE_HELP)."""
    catalog = catalog_in_effect(Settings.from_env())
    out = sys.stdout
    loads = json.loads
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
                texts.append(_line_error(f"line {number} is not JSON: {exc}"))
            except RecursionError:  # the decoder's guard: the line alone is refused
                texts.append(_line_error(f"line {number} is JSON nested too deeply to read "
                                         "(a line is one object: current, target, anchor, "
                                         "at)"))
            else:
                texts.append(answer_text(catalog, request))  # = dumps(answer(...))
        if texts:
            out.write("\n".join(texts) + "\n")
            out.flush()


db_app = _group("The database named by CANONE_DATABASE_URL (default sqlite:///canone.db).",
                "Create or migrate the database.")
billing_app = _group("Billing runs: renew the periods that ended, collect open invoices.",
                     "Renew ended periods, collect open invoices.")
clock_app = _group("The test clock: move time forward to try renewals "
                   "(CANONE_TEST_MODE=1 only).", "Move the test clock (test mode only).")
payments_app = _group("Payments: settle the ones whose outcome was lost.",
                      "Settle payments whose outcome was lost.")
app.add_typer(db_app, name="db")
app.add_typer(billing_app, name="billing")
app.add_typer(clock_app, name="clock")
app.add_typer(payments_app, name="payments")
app.add_typer(einvoices_app, name="einvoices")


def services_or_exit(settings: Settings) -> Services:
    from canone.bootstrap import SettingsError, build_services

    catalog_in_effect(settings)  # a clear message for a broken catalog file
    if problems := settings.payment_problems():
        raise fail("the payment settings are incomplete:\n  " + "\n  ".join(problems))
    try:
        services = build_services(settings)
    except SettingsError as exc:
        raise fail(str(exc)) from None
    if not services.database.is_migrated():  # type: ignore[attr-defined]
        raise fail("the database is not migrated: run `canone db upgrade` first")
    return services


def parse_instant(value: str, field: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{field}: {value!r} is not a date or datetime (ISO 8601)", 2) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@db_app.command("upgrade", short_help="Create or migrate the database.")
def db_upgrade() -> None:
    """Create or migrate the database to the current schema. Run it first, and after each
    upgrade of canone; running it again changes nothing."""
    from canone.db.database import Database

    settings = Settings.from_env()
    Database(settings.database_url).migrate()
    typer.echo(f"database at {settings.database_url.split('@')[-1]} is up to date")


DEMO_SELLER_WARNING = (
    "warning: invoices are issued by the DEMO seller, a fictional company (CANONE_SELLER is "
    "not set, or names a demo file): point CANONE_SELLER at your company's seller file "
    "(`canone seller validate FILE` checks it) before issuing real invoices")


@app.command("serve", short_help="Serve the web pages and the JSON API.")
def serve(
    host: Annotated[str, typer.Option(
        help="Address to listen on; 0.0.0.0 for every interface.", metavar="ADDRESS")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", metavar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(
        help="Worker processes sharing the port.", metavar="N")] = 1,
) -> None:
    """Serve the Billing & Upgrade page, the support console and the JSON API (its docs at
    /docs) until Ctrl-C. Logs one start line, then one line per request."""
    from canone import logs
    from canone.web.server import PortUnavailable
    from canone.web.server import serve as serve_http

    settings = Settings.from_env()
    if problem := settings.secret_problem():
        raise fail(problem)
    services = services_or_exit(settings)
    if services.seller is not None and services.seller.demo and not settings.test_mode:
        typer.echo(DEMO_SELLER_WARNING, err=True)
    logs.configure()
    shown = f"[{host}]" if ":" in host else host
    ready = (f"canone: serving on http://{shown}:{port} (Ctrl-C stops); "
             f"{logs.setup_shown(settings)}")
    try:
        serve_http(host, port, workers, ready)
    except PortUnavailable as exc:
        raise fail(str(exc)) from None


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
        report = renewal.run(services, instant, progress=lambda n: bar.advance(task, n))
    reconciled = payments.reconcile_all(services)
    typer.echo(f"renewed {report.renewed}, cancelled {report.cancelled}, blocked "
               f"{report.blocked}, collected {report.collected}, failed {report.failed}, "
               f"pending {report.pending}, reconciled {reconciled.settled}")
    unsettled(reconciled.errors)


@payments_app.command("reconcile", short_help="Settle payments whose outcome was lost.")
def payments_reconcile() -> None:
    """Settle payments whose outcome was lost (a crash or a card network time-out) by asking
    the card network; prints how many were settled."""
    from datetime import timedelta

    from canone.services import payments

    services = services_or_exit(Settings.from_env())
    reconciled = payments.reconcile_all(services, older_than=timedelta(0))
    typer.echo(f"reconciled {reconciled.settled}")
    unsettled(reconciled.errors)


def unsettled(errors: list[str]) -> None:
    """Name the payment intents that could not be settled (the others were) and exit 1."""
    if errors:
        raise fail(f"{len(errors)} payment(s) could not be settled and stay pending:\n  "
                   + "\n  ".join(errors))


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


@app.command("demo", short_help="Seed the demo accounts once, print the logins.")
def demo(
    url: Annotated[str, typer.Option(
        help="The web app's address, printed with the logins.", metavar="URL")]
    = "http://127.0.0.1:8000",
) -> None:
    """Seed demo accounts, people and a support agent (once: a second run changes nothing),
    then print the address and the logins (every password is canone-demo)."""
    from canone import demo as demo_data
    from canone.bootstrap import demo_vies

    services = services_or_exit(Settings.from_env())
    seeded = demo_data.seed(services, demo_vies())
    typer.echo("demo data seeded" if seeded.created
               else "the demo data is already seeded; nothing changed")
    typer.echo(demo_data.logins(services, url.rstrip("/")))


@app.command("worker", short_help="Send the queued emails and webhooks.")
def worker(
    once: Annotated[bool, typer.Option(
        "--once", help="One pass, then exit (e.g. from cron).")] = False,
    interval: Annotated[float, typer.Option(
        help="Seconds between passes.", metavar="SECONDS")] = 5.0,
    limit: Annotated[int, typer.Option(
        help="Emails or webhooks claimed per batch.", metavar="N")] = 100,
) -> None:
    """Send queued emails and webhook deliveries (the outbox) every few seconds, until
    Ctrl-C.

    Emails go through CANONE_SMTP_URL (unset: printed here). Renewals are not its job
    (`canone billing run`). Run as many as you like: rows are claimed with SKIP LOCKED
    and a lease."""
    import threading

    from canone import logs
    from canone.bootstrap import worker_of
    from canone.integrations.mail import address_problem
    from canone.integrations.outbox import PassReport

    settings = Settings.from_env()
    for name, value in (("CANONE_MAIL_FROM", settings.mail_from),
                        ("CANONE_MAIL_REPLY_TO", settings.mail_reply_to)):
        problem = value is not None and address_problem(value)
        if problem:
            raise fail(f"{name}: {value!r} {problem}")
    services = services_or_exit(settings)
    logs.configure()
    passes = "one pass" if once else f"a pass every {interval:g}s (Ctrl-C stops)"
    logs.start_line("worker", f"canone worker: emails and webhooks, {passes}; "
                    f"{logs.setup_shown(settings)}; {logs.mail_shown(settings)}")
    with worker_of(settings, services, limit) as runner:
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
        try:
            runner.run(interval, stop, report)
        except KeyboardInterrupt:
            stop.set()
            typer.echo("worker stopped")


mail_app = _group("Email to support: receive it as change requests.",
                  "Receive email to support.")
app.add_typer(mail_app, name="mail")


@mail_app.command("listen", short_help="Receive email to support as requests.")
def mail_listen(
    host: Annotated[str, typer.Option(
        help="Address to listen on; 0.0.0.0 for every interface.", metavar="ADDRESS")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SMTP port to listen on.", metavar="PORT")] = 2525,
) -> None:
    """Receive email: a message from an account's primary admin becomes a change request
    (unverified, for support to confirm); any other sender is refused with 550."""
    import threading

    from canone import logs
    from canone.integrations.inbound_requests import listen

    services = services_or_exit(Settings.from_env())
    logs.configure()
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


apikey_app = _group("API keys of the JSON API (its docs at /docs of `canone serve`).",
                    "Create, list and revoke API keys.")
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create", short_help="Create an API key, shown once.")
def apikey_create(
    name: Annotated[str, typer.Option(
        "--name", help="What the key is for, e.g. \"my app\".", metavar="NAME")],
    operator: Annotated[bool, typer.Option(
        "--operator", help="An operator key: every account, support actions.")] = False,
    account: Annotated[str | None, typer.Option(
        "--account", help="An account key: this account only (its id, acc_…).",
        metavar="ACCOUNT_ID")] = None,
) -> None:
    """Create an API key and print it, alone on the last line: it is shown only once.

    \b
    Example: canone apikey create --name "my app" --operator
    then:    curl -H "Authorization: Bearer KEY" http://127.0.0.1:8000/api/v1/catalog"""
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


@apikey_app.command("revoke", short_help="Revoke an API key.")
def apikey_revoke(key_id: Annotated[str, typer.Argument(metavar="KEY_ID", hidden=True)]
                  ) -> None:
    """Revoke the key KEY_ID (key_…, as `canone apikey list` shows it): requests with it are
    refused (401) from now on."""
    from canone.services import apikeys
    from canone.services.errors import NotFound

    services = services_or_exit(Settings.from_env())
    try:
        revoked = apikeys.revoke(services, key_id)
    except NotFound as exc:
        raise fail(str(exc)) from None
    typer.echo(f"revoked {revoked.id} ({revoked.name})")


@apikey_app.command("list", short_help="List the API keys.")
def apikey_list() -> None:
    """Every key: id, scope, name, creation time, and whether it was revoked."""
    from canone.services import apikeys

    services = services_or_exit(Settings.from_env())
    for key in apikeys.list_keys(services):
        scope = "operator" if key.account_id is None else f"account {key.account_id}"
        state = "revoked" if key.revoked else "active"
        typer.echo(f"{key.id}\t{scope}\t{key.name}\t{key.created_at.isoformat()}\t{state}")
