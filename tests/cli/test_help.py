"""`--help` a person can act on: every command says what it does, options show a name for
their value (`--port PORT`), flags nothing, and no type tags such as `<bool>`; `canone price
--help` shows an input line that works as it is and what comes out."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import typer
from typer.testing import CliRunner

from canone.cli import app

TYPE_TAG = re.compile(r"<(bool|int|float|str|text|path|integer|boolean)[^>]*>", re.I)


def every_command() -> list[list[str]]:
    def walk(command: Any, path: list[str]) -> list[list[str]]:
        found = [path]
        if hasattr(command, "commands"):  # a group (typer's own click)
            for name, sub in command.commands.items():
                found += walk(sub, [*path, name])
        return found

    return walk(typer.main.get_command(app), [])


def help_of(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_help_has_a_description_and_no_type_tags() -> None:
    commands = every_command()
    assert ["serve"] in commands and ["apikey", "create"] in commands and len(commands) > 15
    for path in commands:
        text = help_of(*path)
        assert TYPE_TAG.search(text) is None, (path, TYPE_TAG.search(text))
        description = text.split("\n\n")[1].strip()
        assert len(description) > 20, (path, description)
        if "Commands:" in text:  # each subcommand's summary whole, not cut with "..."
            assert "..." not in text.split("Commands:")[1], path


def test_options_name_their_value_and_flags_stand_alone() -> None:
    worker = help_of("worker")
    assert re.search(r"^  --once +One pass, then exit", worker, re.M)
    assert re.search(r"^  --interval SECONDS +Seconds between passes", worker, re.M)
    serve = help_of("serve")
    assert re.search(r"^  --port PORT +Port to listen on", serve, re.M)
    assert re.search(r"^  --help +Show this message and exit", serve, re.M)


def test_price_help_shows_an_input_line_that_prices_as_it_is_and_the_answer() -> None:
    text = help_of("price")
    [example] = [line.strip() for line in text.splitlines()
                 if line.strip().startswith('{"current"')]
    assert '"target"' in text and '"error": null' in text and '"due_now"' in text
    run = subprocess.run([sys.executable, "-m", "canone", "price"], input=example + "\n",
                         capture_output=True, text=True, timeout=120)
    answer = json.loads(run.stdout)
    assert answer["error"] is None
    assert (answer["change"]["kind"], answer["change"]["due_now"]) == ("upgrade", "48.00")
    assert answer["target"]["total"] == "145.00"
