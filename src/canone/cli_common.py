"""What the `canone` commands share: their groups' look, the error exit, the catalog and the
services in effect, and instants given on the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from canone.billing.catalog import Catalog, catalog_in
from canone.billing.errors import CatalogError
from canone.cli_price import catalog_problems
from canone.settings import Settings

if TYPE_CHECKING:  # only an annotation here; importing it costs every command ~0.05 s
    from canone.services.context import Services


def group(help: str, short_help: str | None = None) -> typer.Typer:
    # Plain click help (rich_markup_mode=None): options read `--port PORT`, flags stand alone,
    # with no type tags such as `<bool>`; and examples keep their lines (`\b`).
    return typer.Typer(help=help, short_help=short_help, no_args_is_help=True,
                       rich_markup_mode=None)


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def catalog_in_effect(settings: Settings) -> Catalog:
    try:
        return catalog_in(settings.catalog)
    except CatalogError as exc:
        raise fail(catalog_problems(exc)) from None


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
