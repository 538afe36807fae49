"""The `canone` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TypeVar

import typer

from canone.billing.catalog import load_catalog
from canone.billing.errors import CatalogError, DataFileError
from canone.cli_apikeys import apikey_app
from canone.cli_common import catalog_in_effect, group
from canone.cli_einvoices import einvoices_app
from canone.cli_operations import billing_app, clock_app, db_app, payments_app
from canone.cli_service import mail_app, service_app
from canone.price_command import answer_text
from canone.settings import Settings


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


app = _Canone(help="""canone: subscription billing and plan management.

\b
To start: `canone db upgrade`, `canone demo`, `canone serve`, then open
http://127.0.0.1:8000 (or `make run`, which does all three). The database is
CANONE_DATABASE_URL (default sqlite:///canone.db); see README.md for every setting.
`canone COMMAND --help` tells more about each command.""", no_args_is_help=True,
              rich_markup_mode=None)
catalog_app = group("Check catalog files (the plans, tiers, prices and add-ons).",
                    "Check catalog files.")
seller_app = group("Check seller files (the selling company of SPEC §8: its legal name, "
                   "address, VAT number and tax regime).", "Check seller files.")


_Read = TypeVar("_Read")


def _checked(load: Callable[[Path], _Read], file: Path) -> _Read:
    """What `load` reads from `file`, or every problem it finds printed and exit 1."""
    try:
        return load(file)
    except (CatalogError, DataFileError) as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None


@catalog_app.command("validate", short_help="Check a catalog file.")
def catalog_validate(file: Annotated[Path, typer.Argument(metavar="FILE", hidden=True)]
                     ) -> None:
    """Check FILE, a catalog TOML file (e.g. src/canone/data/catalog.toml): print a summary
    and exit 0, or every problem with its location and exit 1. Use it before pointing
    CANONE_CATALOG at the file."""
    catalog = _checked(load_catalog, file)
    typer.echo(f"{file}: ok (version {catalog.version}, {len(catalog.products)} products, "
               f"{len(catalog.addons)} add-ons)")


@seller_app.command("validate", short_help="Check a seller file.")
def seller_validate(file: Annotated[Path, typer.Argument(metavar="FILE", hidden=True)]
                    ) -> None:
    """Check FILE, a seller TOML file (e.g. src/canone/data/seller-demo.toml): print a
    summary and exit 0, or every problem with its location and exit 1. Point
    CANONE_SELLER at it once it passes."""
    from canone.services.sellers import load_seller_file

    seller = _checked(load_seller_file, file)
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


# The order of `canone --help`: the commands of their own (price first), then the groups.
app.add_typer(service_app)
app.add_typer(catalog_app, name="catalog")
app.add_typer(seller_app, name="seller")
app.add_typer(db_app, name="db")
app.add_typer(billing_app, name="billing")
app.add_typer(clock_app, name="clock")
app.add_typer(payments_app, name="payments")
app.add_typer(einvoices_app, name="einvoices")
app.add_typer(mail_app, name="mail")
app.add_typer(apikey_app, name="apikey")
