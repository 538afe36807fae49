"""`canone apikey`: create, list and revoke the JSON API's keys. Registered on the `canone`
app by `canone.cli`."""

from __future__ import annotations

from typing import Annotated

import typer

from canone.cli_common import fail, group, services_or_exit
from canone.settings import Settings

apikey_app = group("API keys of the JSON API (its docs at /docs of `canone serve`).",
                   "Create, list and revoke API keys.")


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
