"""bench/RESULTS.md is rewritten section by section: a benchmark's new numbers replace its
own section's, and the record written by hand under "### Before and after" stays."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "record.py"
_SPEC = importlib.util.spec_from_file_location("bench_record", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
record = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(record)

BEFORE = """# Benchmark results

## canone price

old numbers

### Before and after

session 6: 4,478 M

## Renewal run

renewal numbers
"""


def test_new_numbers_replace_the_old_and_the_record_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "RESULTS", tmp_path / "RESULTS.md")
    record.RESULTS.write_text(BEFORE, "utf-8")
    record.write_section("## canone price", "## canone price\n\nnew numbers\n")
    assert record.RESULTS.read_text("utf-8") == BEFORE.replace("old numbers", "new numbers")


def test_a_section_not_there_yet_is_added_at_the_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "RESULTS", tmp_path / "RESULTS.md")
    record.RESULTS.write_text(BEFORE, "utf-8")
    record.write_section("## Billing page", "## Billing page\n\np95 4 ms\n")
    assert record.RESULTS.read_text("utf-8") == BEFORE + "\n## Billing page\n\np95 4 ms\n"
