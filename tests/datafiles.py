"""Helpers of the tests of canone's data files (the catalog, the seller)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "canone" / "data"


def with_edits(text: str, *edits: tuple[str, str]) -> str:
    """`text` with each (old, new) edit applied; each `old` stands in it exactly once."""
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def validate(kind: str, path: Path) -> subprocess.CompletedProcess[str]:
    """`canone catalog validate PATH` (kind "catalog") or `canone seller validate PATH`."""
    return subprocess.run([sys.executable, "-m", "canone", kind, "validate", str(path)],
                          capture_output=True, text=True)
