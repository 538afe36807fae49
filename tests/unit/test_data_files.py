"""A data file that cannot be read (the catalog, the seller) is one problem naming the file,
raised as that file's error, as every other problem of it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from canone.billing.catalog import load_catalog
from canone.billing.errors import CatalogError, DataFileError
from canone.services.sellers import load_seller_file

FileError = type[CatalogError | DataFileError]
LOADERS = [pytest.param(load_catalog, CatalogError, id="catalog"),
           pytest.param(load_seller_file, DataFileError, id="seller")]


@pytest.mark.parametrize(("load", "error"), LOADERS)
def test_a_missing_file_is_a_problem_of_the_file(
        tmp_path: Path, load: Callable[[Path], Any], error: FileError) -> None:
    with pytest.raises(error) as raised:
        load(tmp_path / "nowhere.toml")
    assert raised.value.problems == [
        f"{tmp_path / 'nowhere.toml'}: cannot read: No such file or directory"]


@pytest.mark.parametrize(("load", "error"), LOADERS)
def test_a_file_that_is_not_utf8_is_a_problem_of_the_file(
        tmp_path: Path, load: Callable[[Path], Any], error: FileError) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('version = "caffè"\n'.encode("latin-1"))
    with pytest.raises(error) as raised:
        load(path)
    assert raised.value.problems == [f"{path}: not UTF-8 text (byte 15)"]
