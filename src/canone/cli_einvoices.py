"""`canone einvoices`: the FatturaPA files of SPEC §8 — export them (with SDI's receipts)
for a conservation service, and hand them to the SDI intermediary now. Registered on the
`canone` app by `canone.cli`."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from canone.cli_common import fail, services_or_exit
from canone.settings import Settings

einvoices_app = typer.Typer(
    help="E-invoices (FatturaPA files, SPEC §8): export them with SDI's receipts for "
         "conservation; hand the new ones to the SDI intermediary's folder (CANONE_SDI_FOLDER; "
         "`canone worker` does it on every pass).",
    short_help="Export or send the FatturaPA files.", no_args_is_help=True,
    rich_markup_mode=None)


@einvoices_app.command("send", short_help="Hand new files over, read SDI's receipts.")
def einvoices_send() -> None:
    """Hand every FatturaPA file not yet handed over to the SDI intermediary's folder
    (CANONE_SDI_FOLDER), then read back the receipts SDI left there; prints how many."""
    from canone.services import einvoice_files

    handed, answered = einvoice_files.exchange(services_or_exit(Settings.from_env()))
    typer.echo(f"handed over {handed} files; SDI answered about {answered}")


@einvoices_app.command("export", short_help="Copy the files since a date into a folder.")
def einvoices_export(
    since: Annotated[str, typer.Option(
        help="Files made on or after this date (YYYY-MM-DD, UTC).", metavar="DATE")],
    folder: Annotated[Path, typer.Argument(metavar="DIR", hidden=True)],
) -> None:
    """Write every FatturaPA file made since DATE into DIR under its SDI name, with the
    SDI receipts the intermediary left for it in CANONE_SDI_FOLDER: what a conservation
    service (conservazione a norma) takes in. A file already in DIR is written again."""
    from canone.services import einvoice_files
    from canone.services.access import SYSTEM_ACTOR

    try:
        start = date.fromisoformat(since)
    except ValueError:
        raise fail(f"--since: {since!r} is not a date (YYYY-MM-DD)", 2) from None
    settings = Settings.from_env()
    services = services_or_exit(settings)
    folder.mkdir(parents=True, exist_ok=True)
    files = einvoice_files.files_since(services, SYSTEM_ACTOR, start)
    receipts = 0
    for file in files:
        (folder / file.file_name).write_bytes(file.content)
        receipt = file.sdi.get("receipt_file")
        source = Path(settings.sdi_folder) / receipt if receipt else None
        if source is not None and source.is_file():
            shutil.copyfile(source, folder / source.name)
            receipts += 1
    typer.echo(f"exported {len(files)} files and {receipts} SDI receipts to {folder}")
