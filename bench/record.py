"""bench/RESULTS.md: each benchmark rewrites its own section with what it measured, and
keeps the section's written record of past runs (from `KEPT` on, added by hand)."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
KEPT = "### Before and after"


def write_section(heading: str, measured: str) -> None:
    """Replace the section under `heading` (a `## ` line) by `measured` and the section's
    record from `KEPT` on; a section not there yet is added at the end."""
    text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if (found := pattern.search(text)):
        _, kept, record = found.group(0).partition(KEPT)
        section = measured.rstrip("\n") + "\n\n" + (kept + record).rstrip("\n")
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + measured
    RESULTS.write_text(text.rstrip("\n") + "\n", "utf-8")
