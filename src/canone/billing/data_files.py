"""What the readers of canone's TOML data files (the catalog, the seller, the VAT rates)
share: the file's text and its TOML tree, or the one problem that stops there, and the list
of every problem found in the tree, each with its place, instead of stopping at the first."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import canone.data as data_package
from canone.billing.errors import BillingError

# The error a file's problems are raised as: CatalogError or DataFileError.
Problems = Callable[[list[str]], BillingError]


def packaged_text(name: str) -> str:
    """A data file shipped with canone (canone/data), as text with universal newlines (as
    importlib.resources reads it). Read through the package's own loader, which a zip
    import also has: importlib.resources would first import zipfile, tempfile and more, a
    tenth of `canone price`'s start-up."""
    loader: Any = data_package.__loader__
    text: str = loader.get_data(os.path.join(os.path.dirname(data_package.__file__), name)
                                ).decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path, error: Problems) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise error([f"{path}: cannot read: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise error([f"{path}: not UTF-8 text (byte {exc.start})"]) from exc


def parse_toml(text: str, source: str, error: Problems) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error([f"{source}: not valid TOML: {exc}"]) from exc


class TreeReader:
    """Reads a raw TOML tree, noting every problem instead of stopping at the first."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")
