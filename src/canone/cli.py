"""The `canone` command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from canone import cli_price
from canone.billing.catalog import load_catalog
from canone.billing.errors import CatalogError, DataFileError
from canone.cli_apikeys import apikey_app
from canone.cli_common import group
from canone.cli_einvoices import einvoices_app
from canone.cli_operations import billing_app, clock_app, db_app, payments_app
from canone.cli_service import mail_app, service_app

app = typer.Typer(help="""canone: subscription billing and plan management.

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
    raise SystemExit(cli_price.main())


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
