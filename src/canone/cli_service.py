"""`canone serve`, `canone demo`, `canone worker` and `canone mail listen`: seeding and
running the service, its outbox worker and its inbound mail. Registered on the `canone` app
by `canone.cli`."""

from __future__ import annotations

from typing import Annotated

import typer

from canone.cli_common import fail, group, services_or_exit
from canone.settings import Settings

# Commands of their own (`canone serve`), not a group: added to the app without a name.
service_app = typer.Typer(rich_markup_mode=None)
mail_app = group("Email to support: receive it as change requests.",
                 "Receive email to support.")

# Where `serve` and `mail listen` listen.
Host = Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface.",
                                   metavar="ADDRESS")]

DEMO_SELLER_WARNING = (
    "warning: invoices are issued by the DEMO seller, a fictional company (CANONE_SELLER is "
    "not set, or names a demo file): point CANONE_SELLER at your company's seller file "
    "(`canone seller validate FILE` checks it) before issuing real invoices")
DEMO_RATES_WARNING = (
    "warning: CANONE_EXCHANGE_RATES is not set, so the FatturaPA files of documents in a "
    "currency other than the euro would state a made-up demo exchange rate: point it at a "
    "CSV of the ECB's reference rates (README, Electronic invoices)")


@service_app.command("serve", short_help="Serve the web pages and the JSON API.")
def serve(
    host: Host = "127.0.0.1",
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
    if services.seller is not None and not settings.test_mode:
        if services.seller.demo:
            typer.echo(DEMO_SELLER_WARNING, err=True)
        elif services.seller.einvoicing and settings.exchange_rates is None:
            typer.echo(DEMO_RATES_WARNING, err=True)
    logs.configure()
    shown = f"[{host}]" if ":" in host else host
    ready = (f"canone: serving on http://{shown}:{port} (Ctrl-C stops); "
             f"{logs.setup_shown(settings)}")
    try:
        serve_http(host, port, workers, ready)
    except PortUnavailable as exc:
        raise fail(str(exc)) from None


@service_app.command("demo", short_help="Seed the demo accounts once, print the logins.")
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


@service_app.command("worker", short_help="Send the queued emails and webhooks.")
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


@mail_app.command("listen", short_help="Receive email to support as requests.")
def mail_listen(
    host: Host = "127.0.0.1",
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
