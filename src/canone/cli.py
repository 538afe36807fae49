"""The `canone` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from canone.billing.catalog import Catalog, default_catalog, load_catalog
from canone.billing.codec import answer
from canone.billing.errors import CatalogError
from canone.settings import Settings

app = typer.Typer(help="canone: subscription billing and plan management.", no_args_is_help=True)
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


@app.command("price")
def price_command() -> None:
    """Price configurations and plan changes: JSON Lines on stdin → JSON Lines on stdout."""
    catalog = catalog_in_effect(Settings.from_env())
    out = sys.stdout
    dumps, loads = json.dumps, json.loads
    # Bytes in, ASCII out: a line splits only at "\n" (JSON Lines; text mode would also split
    # at a lone "\r"), bad UTF-8 is a bad line (UnicodeDecodeError is a ValueError), and an
    # escaped lone surrogate echoed in an error cannot break the UTF-8 output.
    for number, line in enumerate(sys.stdin.buffer, start=1):
        if not line.strip():
            continue
        try:
            request = loads(line)
        except ValueError as exc:
            result = {"target": None, "change": None,
                      "error": {"field": "line", "message": f"line {number} is not JSON: {exc}"}}
        else:
            result = answer(catalog, request)
        out.write(dumps(result))
        out.write("\n")
    out.flush()
